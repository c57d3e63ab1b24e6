import Foundation
import Glibc

/// What a finished program printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var output: String
    public var error: String
}

/// Runs programs for end-to-end tests: the built `gantry` binary, and host tools.
public enum CommandRunner {
    /// The `gantry` executable SwiftPM built next to this test bundle.
    public static var gantryPath: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("gantry").path
    }

    /// Runs `gantry ARGUMENTS`.
    public static func gantry(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
        try run(gantryPath, arguments, input: input, environment: environment)
    }

    /// `gantry lab -c SCRIPT`, SIGKILLed once the script printed its first line (a crash
    /// mid-session): what its lab leaves is then for the test to look at. The host
    /// snapshot is taken after a cleanup of what earlier crashes left.
    public static func labWithKilledOwner(_ script: String) throws -> HostSnapshot {
        _ = try gantry(["cleanup"])
        let before = HostSnapshot.take()
        let owner = Process()
        owner.executableURL = URL(fileURLWithPath: gantryPath)
        owner.arguments = ["lab", "-c", script]
        let output = Pipe()
        owner.standardOutput = output
        try owner.run()
        _ = output.fileHandleForReading.availableData
        kill(owner.processIdentifier, SIGKILL)
        owner.waitUntilExit()
        return before
    }

    /// Runs a program to its end, collecting both outputs.
    public static func run(
        _ path: String, _ arguments: [String], input: String? = nil,
        environment: [String: String] = [:]
    ) throws -> CommandResult {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe(), error = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errorData = LockedBox(Data())
        let done = DispatchSemaphore(value: 0)
        Thread {
            errorData.value = error.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CommandResult(
            status: status, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData.value, as: UTF8.self))
    }
}

/// A value a reader thread writes and the caller reads after it is done.
final class LockedBox<T>: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
