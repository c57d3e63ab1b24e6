// swift-tools-version: 6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode plus the upcoming features
/// STYLE.md asks for, so `any` is explicit and imports say how far they reach.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Gantry",
    products: [
        .executable(name: "gantry", targets: ["gantry"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // Async-signal-safe C that runs between clone and exec; nothing else.
        .target(name: "CGantry"),
        // The syscall idiom (Errno, one retrying call helper, writeAll) and small POSIX chores
        // written once: read a descriptor or file whole, list a directory, the /proc formats.
        .target(name: "POSIXSupport", dependencies: ["CGantry"], swiftSettings: strictSettings),
        // The caller's terminal: raw mode, a signal queue, a PTY relay, window size, display
        // width, escape stripping.
        .target(name: "Terminal", dependencies: ["CGantry", "POSIXSupport"], swiftSettings: strictSettings),
        // Namespaces, mounts, pivot_root/chroot, PTYs, spawn and enter.
        .target(name: "Isolation", dependencies: ["CGantry", "POSIXSupport", "Terminal"], swiftSettings: strictSettings),
        // rtnetlink in Swift: links, veth pairs, bridges, addresses, routes, netns, ICMP echo.
        .target(name: "Netlink", dependencies: ["CGantry", "POSIXSupport"], swiftSettings: strictSettings),
        // cgroup v1 and v2 behind one resource model: layout, limits, groups, stats, removal.
        .target(name: "Cgroups", dependencies: ["CGantry", "POSIXSupport", "Isolation"], swiftSettings: strictSettings),
        // The teardown ledger: side effects recorded before they are made, for `gantry cleanup`.
        .target(name: "Ledger", dependencies: ["CGantry", "POSIXSupport"], swiftSettings: strictSettings),
        // The disposable lab host: build, enter, run, probe, tear down, clean up.
        .target(
            name: "Lab", dependencies: ["CGantry", "Isolation", "Cgroups", "Netlink", "Ledger", "POSIXSupport", "Terminal"], swiftSettings: strictSettings),
        // Lesson files: model, parser, output matchers, checks, and running them in labs.
        .target(name: "Lessons", dependencies: ["Lab", "Isolation", "Cgroups", "Netlink", "POSIXSupport"], swiftSettings: strictSettings),
        // GNU readline (libreadline-dev) for the REPL's line editing and history.
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        // The REPL: line editing, meta-commands, prompt, step text, live checking, progress.
        // readline and terminfo are linked in statically: loading two more shared libraries
        // on every start would cost `gantry exec` ~0.3 ms for a REPL it does not use.
        .target(
            name: "Shell", dependencies: ["Lessons", "Lab", "Terminal", "CReadline", "POSIXSupport"], swiftSettings: strictSettings,
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libreadline.a", "-Xlinker", "-l:libtinfo.a"])]),
        // OpenSSL's libcrypto (libssl-dev) for SHA-256: the transcripts' hash chain.
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),
        // Transcripts: the recorder (an observer of session events), the reader with its chain
        // check, and playback. libcrypto is linked in statically, as readline is, so starting
        // `gantry exec` loads nothing more.
        .target(
            name: "Transcripts", dependencies: ["Lessons", "Lab", "Terminal", "POSIXSupport", "CGantry", "CCrypto"], swiftSettings: strictSettings,
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libcrypto.a"])]),
        // Grading: one result model from transcripts (recorded, or re-run with --verify),
        // written as JSON, JUnit XML, TAP 14, Gradescope, CSV or a table; shards merged.
        .target(name: "Grading", dependencies: ["Transcripts", "Lessons", "Lab", "POSIXSupport"], swiftSettings: strictSettings),
        // Export: a recorded session as a blog post (Markdown) and as a web page with the
        // asciinema-player.
        .target(name: "Export", dependencies: ["Transcripts", "Grading", "Lessons", "POSIXSupport"], swiftSettings: strictSettings),
        // The command line: argument parsing only.
        .executableTarget(
            name: "gantry",
            dependencies: [
                "Isolation",
                "Netlink",
                "Cgroups",
                "Ledger",
                "Lab",
                "Lessons",
                "Shell",
                "Transcripts",
                "Grading",
                "Export",
                "Terminal",
                "POSIXSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Helpers the test targets share: host-state snapshots, privilege traits, running gantry.
        .target(
            name: "TestSupport", dependencies: ["Isolation", "CGantry", "POSIXSupport"], path: "Tests/TestSupport",
            swiftSettings: strictSettings),
        .testTarget(
            name: "IsolationTests", dependencies: ["Isolation", "POSIXSupport", "TestSupport"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "NetlinkTests", dependencies: ["Netlink", "Isolation", "POSIXSupport", "TestSupport"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "CgroupsTests", dependencies: ["Cgroups", "Isolation", "POSIXSupport", "TestSupport"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "LabTests", dependencies: ["Lab", "Isolation", "Cgroups", "Netlink", "Ledger", "POSIXSupport", "TestSupport"],
            swiftSettings: strictSettings),
        // Malformed/ holds lesson files the parser must refuse; the tests read them by path.
        .testTarget(
            name: "LessonsTests", dependencies: ["Lessons", "Lab", "Cgroups", "Isolation", "TestSupport"], exclude: ["Malformed"],
            swiftSettings: strictSettings),
        .testTarget(name: "ShellTests", dependencies: ["Shell", "Lessons", "Terminal", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "TranscriptsTests", dependencies: ["Transcripts", "Lessons", "POSIXSupport", "TestSupport"], swiftSettings: strictSettings),
        // The command line's own parsing, against the executable's types.
        .testTarget(
            name: "GantryCommandTests", dependencies: ["gantry", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "GantryTests", dependencies: ["TestSupport", "Lessons", "Lab", "Transcripts", "Export", "Terminal"],
            swiftSettings: strictSettings),
    ]
)
