/// What a set of page tables maps, as far as the caller knows it: address ranges with the
/// permission bits the walk ends with (present, writable, user). Used for a level's own page
/// tables (the linear addresses L1 or L2 translate, read by L0's shadow MMU when NPT is off)
/// and for L1's nested page tables (the L2 guest-physical addresses L1 maps, read by KVM's
/// walk of L1's NPT at an L2 #NPF).
///
/// Ranges are looked up in order; the first that contains the address answers. An address no
/// range contains is unknown (never "not present" by default): a caller that knows the rest
/// is unmapped says so with a range that is not present.
public struct PageMap: Sendable, Equatable, Hashable, Codable {
    /// One range of addresses with the same effective permissions.
    public struct Range: Sendable, Equatable, Hashable, Codable {
        /// First and last address of the range (inclusive).
        public var first: UInt64
        public var last: UInt64
        /// The walk reaches a present leaf.
        public var present: Bool
        /// Every level of the walk allows writes (R/W = 1).
        public var writable: Bool
        /// Every level of the walk allows user accesses (U/S = 1).
        public var user: Bool
        /// No level of the walk sets NX/XD (`nil`: not stated; a fetch then stays unknown).
        public var executable: Bool?
        /// Where this range comes from (a facts file, an event that changed it).
        public var source: String

        /// Builds a range.
        public init(
            first: UInt64, last: UInt64, present: Bool, writable: Bool = false, user: Bool = false, executable: Bool? = nil,
            source: String
        ) {
            self.executable = executable
            self.first = first
            self.last = last
            self.present = present
            self.writable = writable
            self.user = user
            self.source = source
        }

        /// `0x0-0x3fffffff present writable user` (for evidence).
        public var text: String {
            let flags = present ? ["present", writable ? "writable" : "read-only", user ? "user" : "supervisor"] : ["not present"]
            return "\(Hex.format(first))-\(Hex.format(last)) \(flags.joined(separator: " "))"
        }
    }

    /// The ranges, first match wins.
    public var ranges: [Range]

    /// Builds a map.
    public init(ranges: [Range] = []) { self.ranges = ranges }

    /// The first range containing `address`.
    public func range(containing address: UInt64) -> Range? {
        ranges.first { $0.first <= address && address <= $0.last }
    }

    /// One access as a page walk sees it.
    public struct Access: Sendable, Equatable {
        /// A write (error code bit 1).
        public var write: Bool
        /// A user-mode access (error code bit 2; every access of a nested-paging walk is one).
        public var user: Bool
        /// An instruction fetch (error code bit 4).
        public var fetch: Bool
        /// CR0.WP of the level, when known: a supervisor write to a read-only page faults only
        /// with WP set.
        public var writeProtect: Bool?
        /// CR4.SMEP / CR4.SMAP of the level, when known: a supervisor fetch from (SMEP) or data
        /// access to (SMAP, unless RFLAGS.AC) a user page faults. `false` for a nested walk.
        public var smep: Bool?
        public var smap: Bool?

        /// Builds an access.
        public init(write: Bool, user: Bool, fetch: Bool = false, writeProtect: Bool? = nil, smep: Bool? = nil, smap: Bool? = nil) {
            self.write = write
            self.user = user
            self.fetch = fetch
            self.writeProtect = writeProtect
            self.smep = smep
            self.smap = smap
        }
    }

    /// Whether the walk for `access` at `address` faults, with the range that decided it;
    /// `nil` when no range contains the address or CR0.WP decides and is unknown.
    public func walkFaults(at address: UInt64, _ access: Access) -> (faults: Bool, range: Range)? {
        guard let range = range(containing: address) else { return nil }
        if !range.present { return (true, range) }
        if access.user && !range.user { return (true, range) }
        if !access.user && range.user {
            // A supervisor access to a user page: SMEP (fetch) or SMAP (data; RFLAGS.AC not modelled).
            guard let protects = access.fetch ? access.smep : access.smap else { return nil }
            if protects { return access.fetch ? (true, range) : nil }
        }
        if access.fetch && range.executable != true { return nil }
        if access.write && !range.writable {
            if access.user { return (true, range) }
            guard let wp = access.writeProtect else { return nil }
            return (wp, range)
        }
        return (false, range)
    }

    /// The map with every source blanked (what a decision can depend on).
    public var withoutSources: PageMap {
        PageMap(ranges: ranges.map { var copy = $0; copy.source = ""; return copy })
    }
}
