import Foundation

/// `commands.txt` in a run folder: one line per `train` invocation (the new run, then each
/// `--resume`), the time and the command line as a shell would take it back.
public enum CommandRecord {
    public static let fileName = "commands.txt"

    /// `argument` as one shell word: unchanged when it holds only safe characters, else in
    /// single quotes (a quote inside becoming `'\''`).
    public static func shellQuoted(_ argument: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !argument.isEmpty && argument.unicodeScalars.allSatisfy(safe.contains) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Adds a line for `arguments` (the program's name first) to `directory/commands.txt`,
    /// rewriting the file atomically.
    public static func append(_ arguments: [String], in directory: String, at date: Date = Date()) throws {
        let path = directory + "/" + fileName
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        let stamp = ISO8601DateFormatter().string(from: date)
        text += "# \(stamp)\n" + arguments.map(shellQuoted).joined(separator: " ") + "\n"
        try writeAtomically(Data(text.utf8), to: path)
    }

    /// The command lines recorded in `directory` (comment lines left out); empty when none are.
    public static func read(in directory: String) -> [String] {
        guard let text = try? String(contentsOfFile: directory + "/" + fileName, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
    }
}
