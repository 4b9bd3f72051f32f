import AutoregTraining
import XCTest

/// What a resumed run may change (`TrainingOptions.resume`), the one list the Trainer and
/// `autoreg train --resume` share.
final class ResumePolicyTests: XCTestCase {
    /// Options that differ from the defaults in every field.
    func otherInEveryField() -> TrainingOptions {
        var o = TrainingOptions()
        o.dataset = "other"; o.dataDirectory = "/elsewhere"; o.binarization = .dynamic; o.batchSize = 7
        o.epochs = 30; o.learningRate = 0.5; o.optimizer = .sgd; o.momentum = 0.5; o.weightDecay = 0.1
        o.schedule = .exponential(gamma: 0.9); o.clipNorm = 2; o.seed = 99; o.maxMinutes = 3; o.trainLimit = 5
        o.validLimit = 6; o.includeValidation = true; o.evalMasks = 2; o.checkpointMinutes = 9; o.emaDecay = 0.99
        o.dropout = 0.2; o.initializedFrom = "x.ckpt"; o.evalBatchSize = 11; o.outputDirectory = "/runs/moved"
        return o
    }

    /// The fields whose values differ between `a` and `b`.
    func differingFields(_ a: TrainingOptions, _ b: TrainingOptions) -> Set<String> {
        let pairs = zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children)
        return Set(pairs.filter { "\($0.value)" != "\($1.value)" }.compactMap(\.0.label))
    }

    var allFields: Set<String> { Set(Mirror(reflecting: TrainingOptions()).children.compactMap(\.label)) }

    /// Asked to change everything it can, a resume takes the settings on the list and the
    /// output folder, and nothing else. (A new option fails the first assertion until
    /// `otherInEveryField` sets it, then the last ones until it is put on one side or the other.)
    func testResumeTakesTheListedSettingsAndNothingElse() {
        let given = otherInEveryField()
        XCTAssertEqual(differingFields(TrainingOptions(), given), allFields, "fixture: every field differs")
        var run = TrainingOptions()
        let changed = run.resume(with: given, changing: Set(TrainingOptions.ResumeSetting.allCases))
        XCTAssertEqual(changed, TrainingOptions.ResumeSetting.allCases, "every listed setting changed, in list order")
        XCTAssertEqual(differingFields(TrainingOptions(), run),
                       ["epochs", "maxMinutes", "learningRate", "schedule", "clipNorm", "emaDecay", "dropout", "validLimit",
                        "dataDirectory", "outputDirectory"])
        XCTAssertEqual(differingFields(run, given),
                       ["dataset", "binarization", "batchSize", "optimizer", "momentum", "weightDecay", "seed", "trainLimit",
                        "includeValidation", "evalMasks", "checkpointMinutes", "initializedFrom", "evalBatchSize"],
                       "the run's own settings stay")
    }

    /// Epochs, time budget and folder always come from the given options (also a time budget
    /// of none); the other listed settings only when asked for.
    func testPerInvocationSettingsAlwaysComeFromTheGivenOptions() {
        var given = otherInEveryField()
        var run = TrainingOptions()
        run.maxMinutes = 5
        given.maxMinutes = nil
        XCTAssertEqual(run.resume(with: given), [], "nothing asked for, nothing reported")
        XCTAssertEqual(differingFields(TrainingOptions(), run), ["epochs", "outputDirectory"])
        XCTAssertNil(run.maxMinutes)
        XCTAssertEqual(TrainingOptions.ResumeSetting.allCases.filter(\.perInvocation), [.epochs, .maxMinutes])

        var asked = TrainingOptions()
        XCTAssertEqual(asked.resume(with: given, changing: [.learningRate, .validLimit]), [.learningRate, .validLimit])
        XCTAssertEqual(differingFields(TrainingOptions(), asked), ["epochs", "learningRate", "validLimit", "outputDirectory"])
    }

    /// A setting asked for but already at the given value is not reported as a change.
    func testOnlyDifferencesAreReported() {
        var run = TrainingOptions(), given = TrainingOptions()
        run.learningRate = 0.01; given.learningRate = 0.01; given.dropout = 0.1
        XCTAssertEqual(run.resume(with: given, changing: [.learningRate, .dropout, .clipNorm]), [.dropout])
        XCTAssertEqual(run.dropout, 0.1)
    }
}
