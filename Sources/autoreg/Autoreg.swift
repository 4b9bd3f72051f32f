import ArgumentParser
import AutoregModels
import AutoregData
import AutoregTensor
import AutoregTraining
import Foundation

@main
struct Autoreg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoreg",
        abstract: "Train, evaluate, sample and benchmark autoregressive image models.",
        discussion: """
        Models: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")). \
        Data sets: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")) \
        (looked for under --data-dir, $AUTOREG_DATA, ../shared/data, ./data and \
        /usr/share/datasets). Likelihoods are reported in nats per image and bits per dimension.
        """,
        subcommands: [Train.self, Eval.self, SampleCommand.self, Complete.self, Bench.self, Classify.self, ReceptiveFieldCommand.self,
                      Export.self, Import.self])

    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)  // keep results and progress in order when piped
        useSharedDataBesideCheckout()
        Allocator.keepFreedMemory()
        do {
            var command = try parseAsRoot()
            if command is StopsOnSignal { StopRequest.catchSignals() }
            try command.run()
        } catch let stop as StopRequest.Stopped {
            note("\(stop)")
            Foundation.exit(128 + stop.signal)
        } catch let error where fileErrorMessage(error) != nil {
            note("Error: " + fileErrorMessage(error)!)
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// Commands that catch Ctrl-C and SIGTERM from the start (before loading data) and stop at
/// their next safe point with a message and exit status 128 + signal: training writes
/// last.ckpt first; the others have nothing to save. A second signal kills at once.
protocol StopsOnSignal {}
extension Train: StopsOnSignal {}
extension Eval: StopsOnSignal {}
extension SampleCommand: StopsOnSignal {}
extension Complete: StopsOnSignal {}
extension Classify: StopsOnSignal {}

/// When the tool runs from a checkout (…/ROOT/.build/release/autoreg) that has the shared
/// data folder beside it (…/shared/data), and AUTOREG_DATA is not set, use that folder, so
/// the data sets are found from any working directory.
func useSharedDataBesideCheckout() {
    guard ProcessInfo.processInfo.environment["AUTOREG_DATA"] == nil else { return }
    var url = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
    for _ in 0..<6 {
        url.deleteLastPathComponent()
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) else { continue }
        let shared = url.deletingLastPathComponent().appendingPathComponent("shared/data").path
        if FileManager.default.fileExists(atPath: shared) { setenv("AUTOREG_DATA", shared, 0) }
        return
    }
}
