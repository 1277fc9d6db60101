// swift-tools-version: 6.2
// Dataflow: symbolic tensor graphs, reverse-mode gradients, a work-stealing
// task scheduler and a BLIS-style SIMD matmul, in plain Swift.
import PackageDescription

/// Code generation for the build machine's CPU.
///
/// Without a target CPU, Swift lowers `SIMD16<Float>.addingProduct` to sixteen
/// scalar `fmaf` calls (about 100x slower). The default-enabled `NativeCPU`
/// trait passes `-march=native` to the compiler for the kernels and defines
/// `DATAFLOW_NATIVE_CPU`, under which the micro-kernels use fused multiply-add.
/// Build a portable binary with `swift build -c release --disable-default-traits`:
/// the kernels then use separate multiply and add (no `fmaf` calls) and the
/// binary runs on any x86-64 (or arm64) machine.
let nativeCPU: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-march=native"], .when(traits: ["NativeCPU"])),
    .define("DATAFLOW_NATIVE_CPU", .when(traits: ["NativeCPU"])),
]

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Dataflow",
    products: [
        .library(name: "Dataflow", targets: ["Dataflow"]),
        .library(name: "DataflowKernels", targets: ["DataflowKernels"]),
        .library(name: "DataflowScheduler", targets: ["DataflowScheduler"]),
        .executable(name: "dataflow-bench", targets: ["dataflow-bench"]),
    ],
    traits: [
        .trait(
            name: "NativeCPU",
            description: "Compile the kernels for the build machine's CPU (-march=native): AVX-512/AVX2 FMA instead of scalar fmaf calls."
        ),
        .default(enabledTraits: ["NativeCPU"]),
    ],
    targets: [
        .target(
            name: "DataflowKernels",
            path: "Sources/DataflowKernels",
            swiftSettings: strict + nativeCPU
        ),
        .target(
            name: "DataflowScheduler",
            path: "Sources/DataflowScheduler",
            swiftSettings: strict
        ),
        .target(
            name: "Dataflow",
            dependencies: ["DataflowKernels", "DataflowScheduler"],
            path: "Sources/Dataflow",
            swiftSettings: strict + nativeCPU
        ),
        .executableTarget(
            name: "dataflow-bench",
            dependencies: ["Dataflow", "DataflowKernels", "DataflowScheduler"],
            path: "Benchmarks/dataflow-bench",
            swiftSettings: strict + nativeCPU
        ),
        .testTarget(
            name: "DataflowKernelsTests",
            dependencies: ["DataflowKernels"],
            path: "Tests/DataflowKernelsTests",
            swiftSettings: strict + nativeCPU
        ),
        .testTarget(
            name: "DataflowSchedulerTests",
            dependencies: ["DataflowScheduler"],
            path: "Tests/DataflowSchedulerTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "DataflowTests",
            dependencies: ["Dataflow", "DataflowKernels", "DataflowScheduler"],
            path: "Tests/DataflowTests",
            swiftSettings: strict + nativeCPU
        ),
    ]
)
