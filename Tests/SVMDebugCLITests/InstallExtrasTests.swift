import Foundation
import TestSupport
import Testing

/// `svmdbg install-extras`: completions and the man page cover the whole command tree.
@Suite struct InstallExtrasTests {
    /// Every displayed (sub)command path and the long option names of each.
    static func commandTree() throws -> [(path: [String], options: [String])] {
        let result = try runSVMDebug(["--experimental-dump-help"])
        let top = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        var out: [(path: [String], options: [String])] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            let here = path + [command["commandName"] as? String ?? "?"]
            let arguments = (command["arguments"] as? [[String: Any]]) ?? []
            let options = arguments.filter { ($0["shouldDisplay"] as? Bool) ?? true }.flatMap { argument in
                ((argument["names"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "long" }.compactMap { $0["name"] as? String }
            }.filter { $0 != "help" && $0 != "version" }
            out.append((here, options))
            for sub in (command["subcommands"] as? [[String: Any]]) ?? [] where (sub["shouldDisplay"] as? Bool) ?? true {
                if sub["commandName"] as? String == "help" { continue }
                walk(sub, here)
            }
        }
        walk(try #require(top["command"] as? [String: Any]), [])
        return out
    }

    @Test("bash, zsh and fish completions and the man page name every subcommand and every option")
    func everyCommandAndOption() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-extras-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: prefix) }
        let result = try runSVMDebug(["install-extras", "--prefix", prefix.path])
        #expect(result.status == 0)
        func read(_ relative: String) throws -> String {
            try String(contentsOf: prefix.appendingPathComponent(relative), encoding: .utf8)
        }
        let bash = try read("share/bash-completion/completions/svmdbg")
        let zsh = try read("share/zsh/site-functions/_svmdbg")
        let fish = try read("share/fish/vendor_completions.d/svmdbg.fish")
        let man = try read("share/man/man1/svmdbg.1")
        #expect(zsh.hasPrefix("#compdef svmdbg\n"))
        #expect(man.contains(".TH SVMDBG 1"))
        let tree = try Self.commandTree()
        #expect(tree.count >= 12)
        #expect(tree.contains { $0.path == ["svmdbg", "install-extras"] && $0.options.contains("prefix") })
        #expect(tree.contains { $0.path == ["svmdbg", "open"] && $0.options.contains("no-mouse") })
        for (path, options) in tree {
            let name = path.last!
            if path.count > 1 {
                #expect(bash.contains(name), "bash lacks \(name)")
                #expect(zsh.contains(name), "zsh lacks \(name)")
                #expect(fish.contains(name), "fish lacks \(name)")
                #expect(man.contains(".SS \"\(path.joined(separator: " ").replacingOccurrences(of: "-", with: "\\-"))\""),
                        "man lacks \(path.joined(separator: " "))")
            }
            for option in options {
                #expect(bash.contains("--\(option)"), "bash lacks \(path) --\(option)")
                #expect(zsh.contains("--\(option)"), "zsh lacks \(path) --\(option)")
                #expect(fish.contains("-l '\(option)'"), "fish lacks \(path) --\(option)")
                #expect(man.contains("\\fB\\-\\-\(option.replacingOccurrences(of: "-", with: "\\-"))\\fR"), "man lacks \(path) --\(option)")
            }
        }
    }

    @Test("a file install-extras did not write is left alone unless --force; its own files are replaced")
    func refusesForeignFiles() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-extras-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: prefix) }
        let zsh = prefix.appendingPathComponent("share/zsh/site-functions/_svmdbg")
        try FileManager.default.createDirectory(at: zsh.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "#compdef svmdbg\n# someone's own\n".write(to: zsh, atomically: true, encoding: .utf8)
        let first = try runSVMDebug(["install-extras", "--prefix", prefix.path])
        #expect(first.status == 1)
        #expect(first.stderr.contains("_svmdbg exists and was not written by svmdbg install-extras"))
        #expect(try String(contentsOf: zsh, encoding: .utf8) == "#compdef svmdbg\n# someone's own\n")
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/man/man1/svmdbg.1").path))
        let again = try runSVMDebug(["install-extras", "--prefix", prefix.path, "--force"])
        #expect(again.status == 0)
        let third = try runSVMDebug(["install-extras", "--prefix", prefix.path])
        #expect(third.status == 0)
        #expect(try String(contentsOf: zsh, encoding: .utf8).contains("Generated by `svmdbg install-extras`"))
    }

    @Test("svmdbg --help points to install-extras; --print writes one file to stdout")
    func helpPointsToExtras() throws {
        let help = try runSVMDebug(["--help"])
        #expect(help.stdout.contains("install-extras --prefix ~/.local"))
        let fish = try runSVMDebug(["install-extras", "--print", "fish"])
        #expect(fish.status == 0)
        #expect(fish.stdout.contains("complete -c 'svmdbg'"))
    }
}
