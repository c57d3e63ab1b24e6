import POSIXSupport
import Testing

@testable import Isolation

/// The spec → recipe expansion and validation: pure data, no root needed.
@Suite struct RecipeTests {
    @Test func pivotRootBindsTheNewRootOntoItselfFirst() throws {
        let spec = SandboxSpec(
            command: ["/bin/sh"], namespaces: [.mount], root: .pivot("/srv/root/"),
            mounts: [.proc(at: "/proc"), .tmpfs(at: "/tmp", size: 1 << 20, mode: 0o1777)])
        let recipe = try Recipe(spec)
        #expect(
            recipe.steps.map(\.description) == [
                "bind /srv/root/ on /srv/root/",
                "mount proc on /srv/root/proc",
                "mount tmpfs on /srv/root/tmp (mode=01777,size=1048576)",
            ])
        #expect(recipe.steps[0].recursive)
        #expect(recipe.makeRslave)
        #expect(recipe.workingDirectory == "/", "after a root change the old cwd means nothing")
    }

    @Test func targetsStayAsTheyAreWithoutANewRoot() throws {
        let recipe = try Recipe(SandboxSpec(command: ["true"], namespaces: [.mount, .pid], mounts: [.proc(at: "/proc")]))
        #expect(recipe.steps.map(\.target) == ["/proc"])
        #expect(recipe.workingDirectory == nil)
        #expect(recipe.useInit)
    }

    @Test func chrootTargetsLandUnderTheNewRoot() throws {
        let recipe = try Recipe(
            SandboxSpec(
                command: ["/bin/ls"], namespaces: [.mount], root: .chroot("/home/u/newroot"),
                mounts: [.bind(source: "/etc", at: "/etc", readOnly: true)]))
        #expect(recipe.steps.map(\.description) == ["bind /etc on /home/u/newroot/etc read-only"])
        #expect(recipe.searchPath == nil, "an argv[0] with a slash is not searched in PATH")
    }

    @Test func minimalDevBindsDevicesFromBeforeItsOwnTmpfs() throws {
        let steps = Recipe.steps(for: .minimalDev(at: "/dev"), at: "/r/dev")
        #expect(steps.first?.description == "mount tmpfs on /r/dev (mode=0755)")
        let devices = steps.filter { $0.kind == .bind }
        #expect(devices.map(\.target) == ["null", "zero", "full", "random", "urandom", "tty"].map { "/r/dev/" + $0 })
        #expect(devices.allSatisfy { $0.earlySource }, "the new tmpfs would hide the host's /dev otherwise")
        #expect(steps.contains { $0.kind == .symlink && $0.target == "/r/dev/ptmx" && $0.source == "pts/ptmx" })
        #expect(steps.contains { $0.kind == .mount && $0.target == "/r/dev/pts" && $0.data?.contains("newinstance") == true })
        #expect(steps.contains { $0.kind == .mkdir && $0.target == "/r/dev/shm" && $0.mode == 0o1777 })
    }

    @Test func overlayJoinsLowerLayersTopFirst() {
        let steps = Recipe.steps(for: .overlay(lower: ["/a", "/b"], upper: "/u", work: "/w", at: "/m"), at: "/m")
        #expect(
            steps == [
                Recipe.Step(
                    kind: .mount, source: "overlay", target: "/m", fstype: "overlay",
                    data: "lowerdir=/a:/b,upperdir=/u,workdir=/w")
            ])
    }

    @Test func initOnlyWithAPidNamespace() throws {
        #expect(try Recipe(SandboxSpec(command: ["true"], namespaces: [.uts])).useInit == false)
        var spec = SandboxSpec(command: ["true"], namespaces: [.pid])
        spec.useInit = false
        #expect(try Recipe(spec).useInit == false)
    }

    @Test(
        arguments: [
            (SandboxSpec(command: []), "no command to run"),
            (SandboxSpec(command: ["true"], hostname: "con01"), "needs a new UTS namespace (--uts)"),
            (SandboxSpec(command: ["true"], namespaces: [.uts], hostname: String(repeating: "x", count: 65)), "1 to 64 bytes"),
            (SandboxSpec(command: ["true"], namespaces: [.user]), "needs a uid/gid mapping"),
            (SandboxSpec(command: ["true"], userMapping: .identity), "needs a new user namespace (--user)"),
            (SandboxSpec(command: ["true"], mounts: [.proc(at: "/proc")]), "need a new mount namespace (--mount)"),
            (SandboxSpec(command: ["true"], root: .pivot("/x")), "needs a new mount namespace (--mount); or use --chroot"),
            (SandboxSpec(command: ["true"], loopbackUp: true), "needs a new network namespace (--net)"),
            (SandboxSpec(command: ["true"], root: .chroot("newroot")), "must be an absolute path"),
            (SandboxSpec(command: ["true"], namespaces: [.mount], mounts: [.tmpfs(at: "tmp")]), "must be an absolute path inside"),
            (SandboxSpec(command: ["true"], namespaces: [.mount], mounts: [.overlay(lower: ["/a,b"], upper: "/u", work: "/w", at: "/m")]), "may not contain"),
            (SandboxSpec(command: ["true"], environment: ["JUSTAKEY"]), "is not KEY=VALUE"),
        ] as [(SandboxSpec, String)])
    func impossibleSpecsAreRefusedWithAReason(spec: SandboxSpec, reason: String) {
        #expect(throws: SpecError.self) { try spec.validate() }
        do {
            try spec.validate()
        } catch {
            #expect(error.description.contains(reason), "got: \(error.description)")
        }
    }

    @Test func searchPathComesFromTheSpecEnvironment() {
        #expect(SandboxSpec(command: ["ls"], environment: ["PATH=/bin"]).searchPath == "/bin")
        #expect(SandboxSpec(command: ["ls"]).searchPath.hasSuffix("/usr/bin:/sbin:/bin"))
    }

    @Test func userMappingsAreWrittenOneRangeALine() {
        #expect(UserMapping.root(uid: 1000, gid: 100).uidMapText == "0 1000 1\n")
        #expect(UserMapping.root(uid: 1000, gid: 100).gidMapText == "0 100 1\n")
        #expect(UserMapping.identity.uidMapText == "0 0 4294967295\n")
        #expect(UserMapping.current(uid: 7, gid: 8).gidMapText == "8 8 1\n")
    }

    @Test func namespacesJoinUserFirstAndMountLast() {
        #expect(Namespaces.all.members.first == .user)
        #expect(Namespaces.all.members.last == .mount)
        #expect(Namespaces.all.members.compactMap(\.procName) == ["user", "cgroup", "ipc", "uts", "net", "pid", "mnt"])
    }

    @Test func specsRoundTripThroughCodable() throws {
        let spec = SandboxSpec(
            command: ["sh"], namespaces: .all, userMapping: .root(uid: 1, gid: 2), hostname: "h",
            root: .pivot("/r"), mounts: [.minimalDev(at: "/dev"), .bind(source: "/a", at: "/b", readOnly: true)])
        let encoded = try JSONRoundTrip.of(spec)
        #expect(encoded == spec)
    }
}

/// Errors read as the kernel call, the object, the errno name, and what to do.
@Suite struct IsolationErrorTests {
    @Test func pivotRootErrorNamesThePathAndSaysWhatToDo() {
        let error = IsolationError(stage: .pivotRoot, cause: Errno(22), subject: "/tmp/lab/root")
        #expect(
            error.description
                == "pivot_root(/tmp/lab/root): EINVAL (Invalid argument) — the new root must be a mount point other than the current root; bind-mount it onto itself first"
        )
    }

    @Test func unknownCombinationsStillNameTheErrno() {
        let error = IsolationError(stage: .symlink, cause: Errno(28), subject: "/dev/fd")
        #expect(error.description == "symlink(/dev/fd): ENOSPC (No space left on device)")
    }

    @Test func specErrorsAreTheirOwnMessage() {
        #expect(IsolationError(SpecError("no command to run")).description == "no command to run")
    }
}
