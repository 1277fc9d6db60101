public enum DataflowSchedulerModule {}
