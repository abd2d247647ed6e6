// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "noise-service",
  products: [
    .library(name: "NoiseGeneration", targets: ["NoiseGeneration"])
  ],
  targets: [
    // Pure Swift: numpy's legacy RandomState and cleanlab's five noise-generation functions.
    // Depends on the standard library and Glibc's libm only.
    .target(name: "NoiseGeneration"),
    .testTarget(
      name: "NoiseGenerationTests",
      dependencies: ["NoiseGeneration"]
    ),
  ]
)
