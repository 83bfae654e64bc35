// swift-tools-version: 6.0
// svmdbg — an interactive debugger for nested AMD SVM traces.
//
// Dependency direction (each arrow: "is imported by"):
//              TraceKit ─┐
//   SVMCodes ─┤            ├─> Replay ─> DebuggerUI ─> DebuggerSession ─┐
//              NestedSVM ┘                         └─> CursesTerminal ───┴─> svmdbg
// TraceKit and NestedSVM know nothing of each other; both re-export SVMCodes (exit codes,
// exception vectors, hex), the one leaf they share. Only CursesTerminal imports CNCursesW.
// DebuggerUI is pure (no file I/O, no threads); DebuggerSession holds everything that reads
// files or runs in the background behind DebuggerUI's `DebugSession` protocol.
import PackageDescription

let package = Package(
    name: "svmdbg",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "svmdbg", targets: ["svmdbg"]),
        .library(name: "TraceKit", targets: ["TraceKit"]),
        .library(name: "NestedSVM", targets: ["NestedSVM"]),
        .library(name: "Replay", targets: ["Replay"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/pointfreeco/swift-snapshot-testing", from: "1.19.7"),
    ],
    targets: [
        // C libraries, each behind a module map and a header of static inline shims.
        .systemLibrary(name: "CNCursesW", pkgConfig: "ncursesw", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CTraceCmd", pkgConfig: "libtracecmd",
                       providers: [.apt(["libtracecmd-dev", "libtraceevent-dev", "libtracefs-dev"])]),
        .systemLibrary(name: "CCompression", providers: [.apt(["zlib1g-dev", "liblzma-dev"])]),

        // SVM exit codes (every spelling), exception vectors, hex formatting. A leaf, pure.
        .target(name: "SVMCodes"),
        // Reading: trace files -> indexed, typed events. No SVM semantics, no UI.
        .target(name: "TraceKit", dependencies: ["SVMCodes", "CTraceCmd", "CCompression"]),
        // The model: KVM's nested-SVM interception logic as explainable, versioned rules. Pure.
        .target(name: "NestedSVM", dependencies: ["SVMCodes"]),
        // BTF (kernel type information) reader for `svmdbg capture`'s probe offsets. Pure.
        .target(name: "BTF"),
        // Joins the two: per-vCPU state reconstruction, recorded outcomes, verdicts, reports.
        .target(name: "Replay", dependencies: ["TraceKit", "NestedSVM"]),
        // The TUI as pure state, actions, reducer and rendering into a cell grid. No curses.
        .target(name: "DebuggerUI", dependencies: ["Replay", "TraceKit", "NestedSVM"]),
        // The TUI's I/O and background work: sessions over real and live traces (loading,
        // replay, following), the app loop that performs the reducer's effects, background
        // scans, the notes file. Talks to DebuggerUI through `DebugSession`, `Effect`, `Action`.
        .target(name: "DebuggerSession", dependencies: ["DebuggerUI", "Replay", "TraceKit", "NestedSVM"]),
        // The only code that calls ncursesw: draws DebuggerUI's grid, decodes keys.
        .target(name: "CursesTerminal", dependencies: ["DebuggerUI", "CNCursesW"]),
        // `package` helpers shared by the test targets (fixtures, headless terminal, snapshots).
        .target(name: "TestSupport", dependencies: [
            "TraceKit", "NestedSVM", "Replay", "DebuggerUI",
            .product(name: "SnapshotTesting", package: "swift-snapshot-testing"),
        ]),
        .executableTarget(name: "svmdbg", dependencies: [
            "TraceKit", "NestedSVM", "Replay", "DebuggerUI", "DebuggerSession", "CursesTerminal", "BTF",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "TraceKitTests", dependencies: ["TraceKit", "TestSupport"]),
        .testTarget(name: "NestedSVMTests", dependencies: [
            "NestedSVM", "TestSupport",
            .product(name: "SnapshotTesting", package: "swift-snapshot-testing"),
        ]),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "TraceKit", "NestedSVM", "TestSupport"]),
        .testTarget(name: "DebuggerUITests", dependencies: [
            "DebuggerUI", "DebuggerSession", "TestSupport",
            .product(name: "SnapshotTesting", package: "swift-snapshot-testing"),
        ], exclude: ["__Snapshots__"]),
        .testTarget(name: "SVMDebugCLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "BTFTests", dependencies: ["BTF", "CCompression", "TestSupport", "svmdbg"]),
        // Byte-identical outputs on every shipped trace (Tests/Golden/outputs.json).
        .testTarget(name: "GoldenOutputTests", dependencies: ["svmdbg", "Replay", "TraceKit", "NestedSVM", "TestSupport"]),
    ]
)
