import ArgumentParser
import Foundation

@main
struct Autoreg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoreg",
        abstract: "Train, evaluate, sample and benchmark autoregressive image models.",
        discussion: """
        Models: fvsbn, nade, made. Data sets: binarized-mnist, mnist, fashion-mnist \
        (looked for under --data-dir, $AUTOREG_DATA, ../shared/data, ./data and \
        /usr/share/datasets). Likelihoods are reported in nats per image and bits per dimension.
        """,
        subcommands: [Train.self, Eval.self, SampleCommand.self, Bench.self])

    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)  // keep results and progress in order when piped
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
