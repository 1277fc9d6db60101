public enum DataflowModule {}
