package io.raftcached.bench;

import java.util.SplittableRandom;

/**
 * Zipf-distributed key numbers in {@code [0, keySpace)}: key k is drawn with probability
 * proportional to {@code 1 / (k + 1)^exponent}, so key 0 is the most popular. Sampled by
 * rejection-inversion (Hörmann and Derflinger, "Rejection-inversion to generate variates from
 * monotone discrete distributions", 1996): constant time per draw and no table, so a key space far
 * larger than memory costs nothing to set up. Immutable; the caller supplies the seeded random
 * source, so the same seed gives the same key sequence against every server.
 */
public final class ZipfKeys {
    /** The acceptance rate is above 0.9 for every exponent; this bound is never reached in practice. */
    private static final int ATTEMPTS_MAX = 10_000;

    private final long keySpace;
    private final double exponent;
    private final double hIntegralOfX1;
    private final double hIntegralOfN;
    private final double squeeze;

    public ZipfKeys(long keySpace, double exponent) {
        if (keySpace < 1) {
            throw new IllegalArgumentException("key space must be >= 1: " + keySpace);
        }
        if (!(exponent > 0) || !Double.isFinite(exponent)) {
            throw new IllegalArgumentException("Zipf exponent must be > 0 and finite: " + exponent);
        }
        this.keySpace = keySpace;
        this.exponent = exponent;
        this.hIntegralOfX1 = hIntegral(1.5) - 1;
        this.hIntegralOfN = hIntegral(keySpace + 0.5);
        this.squeeze = 2 - hIntegralInverse(hIntegral(2.5) - h(2));
    }

    public long keySpace() {
        return keySpace;
    }

    public double exponent() {
        return exponent;
    }

    /** The next key number, in {@code [0, keySpace)}. */
    public long next(SplittableRandom random) {
        for (int attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
            double u = hIntegralOfN + random.nextDouble() * (hIntegralOfX1 - hIntegralOfN);
            double x = hIntegralInverse(u);
            long rank = Math.max(1, Math.min(keySpace, (long) (x + 0.5)));
            // Accept at once inside the squeeze, else compare with the exact area of the rank's bar.
            if (rank - x <= squeeze || u >= hIntegral(rank + 0.5) - h(rank)) {
                return rank - 1;
            }
        }
        throw new IllegalStateException("no Zipf sample accepted in " + ATTEMPTS_MAX + " attempts (exponent "
                + exponent + ", key space " + keySpace + ")");
    }

    /** The unnormalized probability of rank x (1-based): x^-exponent. */
    private double h(double x) {
        return Math.exp(-exponent * Math.log(x));
    }

    /** An antiderivative of h: (x^(1-exponent) - 1) / (1 - exponent), or log x at exponent 1. */
    private double hIntegral(double x) {
        double logX = Math.log(x);
        return expm1OverX((1 - exponent) * logX) * logX;
    }

    private double hIntegralInverse(double x) {
        double t = Math.max(-1, x * (1 - exponent));
        return Math.exp(log1pOverX(t) * x);
    }

    /** log(1 + x) / x, stable near 0 (where exponent is close to 1). */
    private static double log1pOverX(double x) {
        return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
    }

    /** (e^x - 1) / x, stable near 0. */
    private static double expm1OverX(double x) {
        return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
    }
}
