// swift-tools-version:6.0
import PackageDescription

// Code generation for the machines this service runs on: x86-64 CPUs with AVX2 and FMA
// (Haswell, 2013, and later; every x86-64 cloud instance type in use). The generator's block
// regeneration and the exact FMA emulation of OpenBLAS's dgemv need them to be fast. Results do
// not depend on this flag: Swift never fuses or reassociates floating-point operations on its
// own. Set NOISE_SERVICE_PORTABLE=1 to build for any x86-64 CPU.
#if arch(x86_64)
  let cpuFlags: [SwiftSetting] =
    Context.environment["NOISE_SERVICE_PORTABLE"] == nil
    ? [.unsafeFlags(["-target-cpu", "haswell"])] : []
#else
  let cpuFlags: [SwiftSetting] = []
#endif

let package = Package(
  name: "noise-service",
  products: [
    .library(name: "NoiseGeneration", targets: ["NoiseGeneration"])
  ],
  targets: [
    // Pure Swift: numpy's legacy RandomState and cleanlab's five noise-generation functions.
    // Depends on the standard library and Glibc only.
    .target(name: "NoiseGeneration", swiftSettings: cpuFlags),
    // Times the library on the workloads of bench/library_vs_cleanlab.py.
    .executableTarget(
      name: "noise-generation-bench", dependencies: ["NoiseGeneration"], swiftSettings: cpuFlags),
    .testTarget(
      name: "NoiseGenerationTests",
      dependencies: ["NoiseGeneration"]
    ),
  ]
)
