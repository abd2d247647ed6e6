// swift-tools-version:6.0
import PackageDescription

// Code generation for the machines this service runs on: x86-64 CPUs with AVX2 and FMA
// (Haswell, 2013, and later; every x86-64 cloud instance type in use). The generator's block
// regeneration and the exact FMA emulation of OpenBLAS's dgemv need them to be fast. Results do
// not depend on this flag: Swift never fuses or reassociates floating-point operations on its
// own. Set NOISE_SERVICE_PORTABLE=1 to build for any x86-64 CPU.
#if arch(x86_64)
  let portable = Context.environment["NOISE_SERVICE_PORTABLE"] != nil
  let cpuFlags: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "haswell"])]
  let cxxCPUFlags: [String] = portable ? [] : ["-march=haswell"]
#else
  let cpuFlags: [SwiftSetting] = []
  let cxxCPUFlags: [String] = []
#endif

let package = Package(
  name: "noise-service",
  products: [
    .executable(name: "noise-service", targets: ["noise-service"]),
    .library(name: "NoiseGeneration", targets: ["NoiseGeneration"]),
  ],
  targets: [
    // Pure Swift: numpy's legacy RandomState and cleanlab's five noise-generation functions.
    // Depends on the standard library (with its Synchronization module, for the atomics of the
    // two-thread generate_noisy_labels) and Glibc only.
    .target(name: "NoiseGeneration", swiftSettings: cpuFlags),
    // Times the library on the workloads of bench/library_vs_cleanlab.py.
    .executableTarget(
      name: "noise-generation-bench", dependencies: ["NoiseGeneration"], swiftSettings: cpuFlags),
    // C shim over libmicrohttpd (Debian: libmicrohttpd-dev).
    .target(name: "CMicroHTTPD", linkerSettings: [.linkedLibrary("microhttpd")]),
    // C++ shim over simdjson's On-Demand parser with a C header (Debian: libsimdjson-dev).
    // simdjson's On-Demand code is compiled into the shim for the target CPU: without these
    // flags it would use its portable fallback kernels, several times slower.
    .target(
      name: "CSimdJSON", cxxSettings: [.unsafeFlags(["-O3"] + cxxCPUFlags)],
      linkerSettings: [.linkedLibrary("simdjson")]),
    // The HTTP layer: server lifetime, routing, decoding, handlers, encoding, errors, metrics.
    .target(
      name: "NoiseService",
      dependencies: ["NoiseGeneration", "CMicroHTTPD", "CSimdJSON"],
      resources: [.copy("Resources/openapi.yaml")],
      swiftSettings: cpuFlags),
    // The executable: flags and environment, start, signals, shutdown.
    .executableTarget(
      name: "noise-service", dependencies: ["NoiseService"], swiftSettings: cpuFlags),
    .testTarget(
      name: "NoiseGenerationTests",
      dependencies: ["NoiseGeneration"]
    ),
    .testTarget(
      name: "NoiseServiceTests",
      dependencies: ["NoiseService", "NoiseGeneration"]
    ),
  ],
  cxxLanguageStandard: .cxx17
)

// libFuzzer targets, built only with NOISE_SERVICE_FUZZ=1 (they take their main from libFuzzer):
//   NOISE_SERVICE_FUZZ=1 swift build -c release --sanitize=fuzzer --sanitize=address \
//     -Xswiftc -sanitize=fuzzer,address --product fuzz-npy
// (swiftc keeps only its last -sanitize= flag; the combined one gives Swift code coverage too)
// `Fuzz/run` builds and runs them.
if Context.environment["NOISE_SERVICE_FUZZ"] != nil {
  package.targets.append(
    .target(
      name: "FuzzSupport", dependencies: ["NoiseService", "NoiseGeneration"], path: "Fuzz/Support"))
  for name in [
    "json-noise-matrix", "json-noisy-labels", "json-validate", "json-probabilities",
    "json-balls-into-bins", "json-batch", "npy", "multipart", "generation",
  ] {
    package.targets.append(
      .executableTarget(
        name: "fuzz-\(name)", dependencies: ["FuzzSupport", "NoiseService", "NoiseGeneration"],
        path: "Fuzz/\(name)", swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "fuzz-\(name)", targets: ["fuzz-\(name)"]))
  }
}
