/// The bits of L1's I/O permission map (vmcb12 `iopm_base_pa`) that the caller knows.
///
/// One bit per port (APM vol. 2 "I/O Intercepts"); the map has a third page so an access at
/// the top ports still finds bits, which is why ports up to `0x10002` can be listed. An
/// unlisted port is unknown — never assumed clear.
public struct IOPermissionMap: Sendable, Equatable, Codable {
    /// Known intercept bit per port number (0–0x10002).
    public var ports: [UInt32: Known<Bool>]

    /// An IOPM with the given known bits.
    /// The bit of every port (0–0x10002) ``ports`` does not list, when known (scenario/facts
    /// key `"*"`: e.g. L1 zeroed the map and set only the listed bits).
    public var otherBits: Known<Bool>?

    public init(ports: [UInt32: Known<Bool>] = [:], otherBits: Known<Bool>? = nil) {
        self.ports = ports
        self.otherBits = otherBits
    }

    /// The highest bit an access can touch: port 0xFFFF plus a 4-byte size minus one.
    public static let lastBit: UInt32 = 0xFFFF + 3

    /// The known bit of `port`, or `nil`.
    public func bit(port: UInt32) -> Known<Bool>? { ports[port] ?? (port <= Self.lastBit ? otherBits : nil) }
}
