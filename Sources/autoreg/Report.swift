import ArgumentParser
import AutoregData
import AutoregImaging
import AutoregModels
import AutoregReport
import AutoregTensor
import AutoregTraining
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page about one or more training runs.",
        discussion: """
        For each run folder (what train --out wrote): training and validation NLL per epoch, the \
        training loss per step (runs that write per-step rows), learning rate and images/s, \
        then samples (with their probability maps for binary models), completions of test \
        images, the per-pixel surprise of test images on one shared scale, the receptive field \
        of the centre pixel, the command lines (commands.txt) and the configuration saved in the \
        checkpoint. Several runs overlay in the plots. The page holds everything (inline SVG, \
        PNG data URIs): no network is needed to view it. Pictures come from best.ckpt, or \
        last.ckpt before the first epoch has ended. Example:
          autoreg report runs/pixelcnn runs/gated-pixelcnn --out report.html
        """)

    @Argument(help: "Run folders, one or more.") var runs: [String] = []
    @Option(help: "Output HTML file.") var out: String = "report.html"
    @Option(parsing: .unconditional, help: "Samples drawn per run (0: none).") var samples: Int = 4
    @Option(parsing: .unconditional, help: "Test images completed and mapped per run (0: none).") var images: Int = 3
    @Option(help: "Folder holding the data set's files (default: the run's own).") var dataDir: String?
    @Option(parsing: .unconditional, help: "Random seed of the samples and completions.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Enlarge each pixel of the pictures this many times.") var scale: Int = 4
    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds a panel may be expected to take where the naive sampler (one full pass per sub-pixel; models without a cached sampler: \(ModelKind.allCases.filter { !$0.hasCachedSampler }.map(\.rawValue).joined(separator: ", "))) draws its images; a panel expected to take longer becomes a note.", valueName: "seconds"))
    var samplingBudget: Double = 60
    @Flag(help: "Draw samples and completions whatever the naive sampler is expected to take.")
    var slowSampling = false
    @OptionGroup var imageLimit: ImageLimitOptions

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give at least one run folder (autoreg train --out RUN writes one)") }
        if !out.hasSuffix(".html") { throw ValidationError("--out must name a .html file, got '\(out)'") }
        if samples < 0 || samples > 64 { throw ValidationError("--samples must lie in 0...64, got \(samples)") }
        if images < 0 || images > 16 { throw ValidationError("--images must lie in 0...16, got \(images)") }
        if scale < 1 || scale > 16 { throw ValidationError("--scale must lie in 1...16, got \(scale)") }
        if !(samplingBudget >= 0 && samplingBudget.isFinite) {
            throw ValidationError("--sampling-budget must be a number of seconds, at least 0, got \(samplingBudget)")
        }
    }

    func run() throws {
        imageLimit.apply()
        Gemm.setThreads(1)  // the pictures' products are small
        let start = Date()
        let loaded = try runs.map { try ReportRun(folder: $0) }
        var page = ReportPage(title: loaded.count == 1 ? "Autoreg run \(loaded[0].name)"
                                                       : "Autoreg runs " + loaded.map(\.name).joined(separator: ", "))
        page.add("Overview", html: overviewTable(loaded) + loaded.flatMap(\.notes).map { ReportPage.paragraph($0, className: "note") }.joined())
        page.add("Curves", html: curves(loaded))
        for (k, run) in loaded.enumerated() {
            page.add("Run \(run.name)", html: try runSection(run, index: k))
        }
        let html = page.html()
        try writeAtomically(Data(html.utf8), to: out)
        print(String(format: "wrote %@ (%d run%@, %.0f KB) in %.1f s", out, loaded.count, loaded.count == 1 ? "" : "s",
                     Double(html.utf8.count) / 1024, Date().timeIntervalSince(start)))
    }

    func overviewTable(_ runs: [ReportRun]) -> String {
        var s = "<table><tr><th>run</th><th>model</th><th>parameters</th><th>data</th><th>epochs</th>"
            + "<th>best valid NLL (nats)</th><th>pictures from</th></tr>"
        for r in runs {
            let c = r.model.config, o = r.checkpoint.training?.options
            let best = r.metrics.epochs.compactMap { row in row.validNLL.map { (row.epoch, $0) } }.min { $0.1 < $1.1 }
            let cells = [r.name, c.kind.rawValue, "\(r.model.parameterCount)", o?.dataset ?? "?",
                         "\(r.metrics.epochs.map(\.epoch).max() ?? 0)",
                         best.map { String(format: "%.2f (epoch %d)", $0.1, $0.0) } ?? "none yet",
                         (r.checkpointPath as NSString).lastPathComponent]
            s += "<tr>" + cells.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>"
        }
        return s + "</table>"
    }

    /// The four plots, each run in its own colour (train dashed, validation solid); one run
    /// gets a colour per series instead.
    func curves(_ runs: [ReportRun]) -> String {
        let single = runs.count == 1
        func name(_ r: ReportRun, _ what: String) -> String { single ? what : "\(r.name) \(what)" }
        func color(_ k: Int, _ series: Int) -> String { plotColors[(single ? series : k) % plotColors.count] }
        var nll: [LinePlot.Series] = [], steps: [LinePlot.Series] = [], rates: [LinePlot.Series] = [], speed: [LinePlot.Series] = []
        for (k, r) in runs.enumerated() {
            let e = r.metrics.epochs, st = r.metrics.steps
            nll.append(.init(name: name(r, "train"), points: e.compactMap { row in row.trainNLL.map { (Double(row.epoch), $0) } },
                             color: color(k, 0), dashed: true))
            nll.append(.init(name: name(r, "valid"), points: e.compactMap { row in row.validNLL.map { (Double(row.epoch), $0) } },
                             color: color(k, 1)))
            if !st.isEmpty {
                steps.append(.init(name: name(r, "train loss"), points: st.compactMap { row in row.trainLoss.map { (Double(row.step), $0) } },
                                   color: color(k, 0), dashed: true))
                steps.append(.init(name: name(r, "valid"), points: e.compactMap { row in
                    guard let s = row.step, let v = row.validNLL else { return nil }
                    return (Double(s), v)
                }, color: color(k, 1)))
            }
            // Learning rate and images/s on one epoch axis: step rows at their fraction of an epoch.
            let timeline = (st.compactMap { row in row.epochs.map { ($0, row.learningRate, row.imagesPerSecond) } }
                + e.map { (Double($0.epoch), $0.learningRate, $0.imagesPerSecond) }).sorted { $0.0 < $1.0 }
            rates.append(.init(name: name(r, "learning rate"), points: timeline.compactMap { t in t.1.map { (t.0, $0) } },
                               color: color(k, 2)))
            speed.append(.init(name: name(r, "images/s"), points: timeline.compactMap { t in t.2.flatMap { $0 > 0 ? (t.0, $0) : nil } },
                               color: color(k, 3)))
        }
        var html = ""
        func add(_ plot: LinePlot, caption: String, empty: String) {
            html += plot.hasData ? ReportPage.figure(plot.svg(), caption: caption) : ReportPage.paragraph(empty, className: "note")
        }
        add(LinePlot(title: "NLL per epoch", xLabel: "epoch", yLabel: "nats per image", series: nll),
            caption: "Training NLL (mean over the epoch's batches, dashed) and validation NLL (solid), nats per image.",
            empty: "No epoch has finished yet: no NLL per epoch to plot.")
        add(LinePlot(title: "Training loss per step", xLabel: "step", yLabel: "nats per image", series: steps),
            caption: "Mean training loss since the previous per-step row (dashed); validation NLL at each epoch's last step (solid).",
            empty: "No per-step rows in metrics.jsonl (runs trained before they were written, or shorter than train --metrics-every steps).")
        add(LinePlot(title: "Learning rate", xLabel: "epoch", yLabel: "learning rate", series: rates),
            caption: "The learning rate of the optimiser at each row.", empty: "No learning rate recorded.")
        add(LinePlot(title: "Training speed", xLabel: "epoch", yLabel: "images per second", series: speed),
            caption: "Training images per second: per-step rows over the steps since the previous row, epoch rows the progress line's last figure.",
            empty: "No training speed recorded.")
        return html
    }

    func runSection(_ run: ReportRun, index: Int) throws -> String {
        var html = ReportPictures(run: run, samples: samples, images: images, dataDirectory: dataDir, seed: seed,
                                  scale: scale, index: index, samplingBudget: samplingBudget, slowSampling: slowSampling).html()
        html += "<h3>Command</h3>"
        html += run.commands.isEmpty
            ? ReportPage.paragraph("The run does not record its command line (commands.txt is written by train since issue 18).", className: "note")
            : ReportPage.preformatted(run.commands.joined(separator: "\n"))
        html += "<h3>Configuration</h3>" + ReportPage.preformatted(run.configurationText)
        return html
    }
}

/// What the report reads from one run folder.
struct ReportRun {
    let folder: String
    var name: String { URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent }
    let metrics: RunMetrics
    let checkpointPath: String
    let checkpoint: Checkpoint
    let model: any AutoregressiveModel
    let commands: [String]
    var notes: [String] = []

    init(folder: String) throws {
        self.folder = folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReportError("\(folder): no such folder (give the folder a run wrote: autoreg train --out FOLDER)")
        }
        let best = folder + "/best.ckpt", last = folder + "/last.ckpt", metricsPath = folder + "/metrics.jsonl"
        if FileManager.default.fileExists(atPath: best) {
            checkpointPath = best
        } else if FileManager.default.fileExists(atPath: last) {
            checkpointPath = last
            notes.append("\(folder): no best.ckpt yet (no epoch has finished); the pictures use last.ckpt")
        } else {
            throw ReportError("\(folder): holds neither best.ckpt nor last.ckpt; is it a run folder (autoreg train --out FOLDER)?")
        }
        checkpoint = try Checkpoint.read(from: checkpointPath)
        model = try checkpoint.makeModel(path: checkpointPath)
        if FileManager.default.fileExists(atPath: metricsPath) {
            metrics = try RunMetrics(path: metricsPath)
        } else {
            metrics = RunMetrics()
            notes.append("\(folder): no metrics.jsonl yet (no epoch has finished)")
        }
        commands = CommandRecord.read(in: folder)
    }

    /// The model's configuration and the training options, as the checkpoint stores them (JSON).
    var configurationText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) -> String {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "(not encodable)"
        }
        var text = "model (\(checkpointPath)): \(model.parameterCount) parameters\n" + json(model.config)
        if let t = checkpoint.training {
            text += "\n\ntraining (epoch \(t.epoch), step \(t.step)):\n" + json(t.options)
        }
        return text
    }
}
