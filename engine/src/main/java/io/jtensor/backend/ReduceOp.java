package io.jtensor.backend;

/** Reductions. MAX/MIN/ARGMAX/ARGMIN may also write the index (I64) of the extreme value along the reduced dims. */
public enum ReduceOp { SUM, PROD, MAX, MIN, ARGMAX, ARGMIN, ANY, ALL, LOGSUMEXP }
