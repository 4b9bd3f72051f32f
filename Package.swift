// swift-tools-version:6.0
import PackageDescription

/// Hot loops are plain C with no flags of their own: on x86-64 Linux each is compiled for
/// AVX-512, AVX2+FMA and baseline x86-64 and the CPU picks one at load time
/// (`Sources/CKernels/ar_dispatch.h`), so one build runs on every machine; FMA contraction
/// is a pragma in the C files. No unsafe flags, so the package can be a versioned dependency.
let kernelFlags: [CSetting] = []
/// Release builds keep Swift's bounds and overflow checks (plain `-O`): a bug must stop with
/// a message, never corrupt memory. Hot loops live in CKernels.

let package = Package(
    name: "Autoreg",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Autoreg", targets: ["AutoregTensor", "AutoregNN", "AutoregModels",
                                            "AutoregData", "AutoregTraining", "AutoregImaging", "AutoregPNG",
                                            "AutoregReport"]),
        .executable(name: "autoreg", targets: ["autoreg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries from the system (Debian: libdnnl-dev, zlib1g-dev).
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL",
                       providers: [.apt(["libdnnl-dev"]), .brew(["onednn"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: kernelFlags),

        // Tensor engine: storage, reverse-mode autodiff, ops, GEMM on oneDNN.
        .target(name: "AutoregTensor", dependencies: ["CDNNL", "CKernels"]),
        // Layers, parameters, optimizers.
        .target(name: "AutoregNN", dependencies: ["AutoregTensor", "CKernels"]),
        // FVSBN, NADE, MADE, ...
        .target(name: "AutoregModels", dependencies: ["AutoregTensor", "AutoregNN", "CKernels"]),
        // Dataset readers (IDX, .amat, CIFAR-10 batches: plain or gzip; PNG folders), binarisation, splits, batching.
        .target(name: "AutoregData", dependencies: ["CZlib", "AutoregPNG"]),
        // PNG codec: RasterImage, reader with size limits, writer, filters, ImagingError.
        .target(name: "AutoregPNG", dependencies: ["CZlib"]),
        // Image grids, heat maps, colormaps, composition; re-exports AutoregPNG.
        .target(name: "AutoregImaging", dependencies: ["AutoregPNG"]),
        // HTML run reports: SVG line plots, escaping, data-URI images, metrics.jsonl rows.
        .target(name: "AutoregReport", dependencies: ["AutoregPNG"]),
        // Training loop, evaluation, checkpoints, metrics.
        .target(name: "AutoregTraining",
                dependencies: ["AutoregTensor", "AutoregNN", "AutoregModels", "AutoregData", "CKernels", "CZlib"]),
        .executableTarget(name: "autoreg", dependencies: [
            "AutoregTensor", "AutoregNN", "AutoregModels", "AutoregData", "AutoregTraining", "AutoregImaging",
            "AutoregBenchSupport", "AutoregReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The one timing helper and the JSON lines of `autoreg bench` and `autoreg-lab`.
        .target(name: "AutoregBenchSupport"),
        // Experiments, not product: our convolutions and sgemm against oneDNN's own primitives.
        .executableTarget(name: "autoreg-lab", dependencies: [
            "AutoregBenchSupport", "AutoregTensor", "AutoregNN", "AutoregModels", "CDNNL",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers shared by test targets (a finite-difference gradient checker).
        .target(name: "AutoregTestSupport", dependencies: ["AutoregTensor", "AutoregModels"], path: "Tests/AutoregTestSupport"),
        .testTarget(name: "AutoregTensorTests", dependencies: ["AutoregTensor", "AutoregNN", "AutoregTestSupport"]),
        .testTarget(name: "AutoregModelsTests",
                    dependencies: ["AutoregTensor", "AutoregNN", "AutoregModels", "AutoregTestSupport"]),
        .testTarget(name: "AutoregDataTests", dependencies: ["AutoregData", "AutoregPNG"]),
        .testTarget(name: "AutoregPNGTests", dependencies: ["AutoregPNG", "CZlib"]),
        .testTarget(name: "AutoregImagingTests", dependencies: ["AutoregImaging"]),
        .testTarget(name: "AutoregReportTests", dependencies: ["AutoregReport", "AutoregPNG"]),
        .testTarget(name: "AutoregTrainingTests",
                    dependencies: ["AutoregTraining", "AutoregModels", "AutoregData", "AutoregImaging", "AutoregReport",
                                   "AutoregTestSupport"],
                    // Read from the source tree by LegacyCheckpointTests (#filePath), not bundled.
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
