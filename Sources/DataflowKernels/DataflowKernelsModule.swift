// Module placeholder; see KernelsNamespace.swift once written.
public enum DataflowKernelsModule {}
