// swift-tools-version:5.4
// libFuzzer targets for Autoreg's readers: one executable per reader, each defining
// LLVMFuzzerTestOneInput. Build and run them with scripts/fuzz.sh (AddressSanitizer +
// libFuzzer); the root package does not see this folder.
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point
// to `<module>_main` and links `main` to it, which leaves no room for libFuzzer's own `main`.
import PackageDescription

/// One executable per reader.
let fuzzers = ["fuzz-idx", "fuzz-amat", "fuzz-cifar", "fuzz-gzip", "fuzz-png", "fuzz-checkpoint", "fuzz-safetensors"]

let package = Package(
    name: "AutoregFuzz",
    dependencies: [.package(name: "Autoreg", path: "..")],
    targets: fuzzers.map {
        .executableTarget(name: $0, dependencies: [.product(name: "Autoreg", package: "Autoreg")], path: "Sources/\($0)")
    }
)
