// Dataflow: symbolic tensor graphs, reverse-mode gradients that compute every
// backpropagated term once, and a compiler that turns the forward pass and the joint
// gradient into a parallel task program.
//
// The module re-exports the two layers it is built on, so `import Dataflow` gives
// `TensorBuffer`, `MatrixView` (DataflowKernels) and `TaskGraph`, `Executor`,
// `TraceRecorder`, `ScheduleSimulator` (DataflowScheduler) too.
@_exported import DataflowKernels
@_exported import DataflowScheduler
