/* The compiled row engine of expfam.special (see _rows.py for the algorithm and its bounds).

   Every row kernel runs the same steps on one row, in one thread, with no temporaries of
   the row's size: the row maximum m (first argmax k); the shift d = beta (x - m) as an
   exact hi + lo (TwoSum, and Dekker's product for beta); exp(hi) (exp_fast, vectorised)
   with the correction exp(hi) lo; and a compensated (TwoSum) accumulation of t = sum_{j != k} e_j, carried as a
   double-double. Log-domain kinds then take log Z = log1p(t) in double-double, after
   re-summing every term with exp in double-double (exp_parts) on rows where float64 exp
   could reach the last digit of log Z (a dominant class, or t below 2^-900).

   Rows longer than LONG_ROW are cut into segments of SEG columns; each phase runs over the
   segments (on several threads when allowed) and their partial sums are added in segment
   order, so the result does not depend on the thread count. Shorter rows are one segment,
   and rows are shared among the threads.

   Float32 rows whose output is float32 or float16 take the coarse path instead (see
   seg_fast_coarse): plain float64 shift, exp_coarse and sums, within 2^-30 before the last
   rounding; logsumexp rows near cancellation (kappa > 2^9) take the path above.

   Compiled with -ffp-contract=off: TwoSum, Dekker's product and the Cody-Waite reduction
   need every operation rounded as written (no FMA contraction, no reassociation). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double T_HI[64] = {0x1.0000000000000p+0, 0x1.02c9a3e778061p+0, 0x1.059b0d3158574p+0, 0x1.0874518759bc8p+0, 0x1.0b5586cf9890fp+0, 0x1.0e3ec32d3d1a2p+0, 0x1.11301d0125b51p+0, 0x1.1429aaea92de0p+0, 0x1.172b83c7d517bp+0, 0x1.1a35beb6fcb75p+0, 0x1.1d4873168b9aap+0, 0x1.2063b88628cd6p+0, 0x1.2387a6e756238p+0, 0x1.26b4565e27cddp+0, 0x1.29e9df51fdee1p+0, 0x1.2d285a6e4030bp+0, 0x1.306fe0a31b715p+0, 0x1.33c08b26416ffp+0, 0x1.371a7373aa9cbp+0, 0x1.3a7db34e59ff7p+0, 0x1.3dea64c123422p+0, 0x1.4160a21f72e2ap+0, 0x1.44e086061892dp+0, 0x1.486a2b5c13cd0p+0, 0x1.4bfdad5362a27p+0, 0x1.4f9b2769d2ca7p+0, 0x1.5342b569d4f82p+0, 0x1.56f4736b527dap+0, 0x1.5ab07dd485429p+0, 0x1.5e76f15ad2148p+0, 0x1.6247eb03a5585p+0, 0x1.6623882552225p+0, 0x1.6a09e667f3bcdp+0, 0x1.6dfb23c651a2fp+0, 0x1.71f75e8ec5f74p+0, 0x1.75feb564267c9p+0, 0x1.7a11473eb0187p+0, 0x1.7e2f336cf4e62p+0, 0x1.82589994cce13p+0, 0x1.868d99b4492edp+0, 0x1.8ace5422aa0dbp+0, 0x1.8f1ae99157736p+0, 0x1.93737b0cdc5e5p+0, 0x1.97d829fde4e50p+0, 0x1.9c49182a3f090p+0, 0x1.a0c667b5de565p+0, 0x1.a5503b23e255dp+0, 0x1.a9e6b5579fdbfp+0, 0x1.ae89f995ad3adp+0, 0x1.b33a2b84f15fbp+0, 0x1.b7f76f2fb5e47p+0, 0x1.bcc1e904bc1d2p+0, 0x1.c199bdd85529cp+0, 0x1.c67f12e57d14bp+0, 0x1.cb720dcef9069p+0, 0x1.d072d4a07897cp+0, 0x1.d5818dcfba487p+0, 0x1.da9e603db3285p+0, 0x1.dfc97337b9b5fp+0, 0x1.e502ee78b3ff6p+0, 0x1.ea4afa2a490dap+0, 0x1.efa1bee615a27p+0, 0x1.f50765b6e4540p+0, 0x1.fa7c1819e90d8p+0};
static const double T_LO[64] = {0x0.0p+0, -0x1.19083535b085dp-56, 0x1.d73e2a475b465p-55, 0x1.186be4bb284ffp-57, 0x1.8a62e4adc610bp-54, 0x1.03a1727c57b53p-59, -0x1.6c51039449b3ap-54, -0x1.32fbf9af1369ep-54, -0x1.19041b9d78a76p-55, 0x1.e5b4c7b4968e4p-55, 0x1.e016e00a2643cp-54, 0x1.dc775814a8495p-55, 0x1.9b07eb6c70573p-54, 0x1.2bd339940e9d9p-55, 0x1.612e8afad1255p-55, 0x1.0024754db41d5p-54, 0x1.6f46ad23182e4p-55, 0x1.32721843659a6p-54, -0x1.63aeabf42eae2p-54, -0x1.5e436d661f5e3p-56, 0x1.ada0911f09ebcp-55, -0x1.ef3691c309278p-58, 0x1.89b7a04ef80d0p-59, 0x1.3c1a3b69062f0p-56, 0x1.d4397afec42e2p-56, -0x1.4b309d25957e3p-54, -0x1.07abe1db13cadp-55, 0x1.9bb2c011d93adp-54, 0x1.6324c054647adp-54, 0x1.ba6f93080e65ep-54, -0x1.383c17e40b497p-54, -0x1.bb60987591c34p-54, -0x1.bdd3413b26456p-54, -0x1.bbe3a683c88abp-57, -0x1.16e4786887a99p-55, -0x1.0245957316dd3p-54, -0x1.41577ee04992fp-55, 0x1.05d02ba15797ep-56, -0x1.d4c1dd41532d8p-54, -0x1.fc6f89bd4f6bap-54, 0x1.6e9f156864b27p-54, 0x1.5cc13a2e3976cp-55, -0x1.75fc781b57ebcp-57, -0x1.d185b7c1b85d1p-54, 0x1.c7c46b071f2bep-56, -0x1.359495d1cd533p-54, -0x1.d2f6edb8d41e1p-54, 0x1.0fac90ef7fd31p-54, 0x1.7a1cd345dcc81p-54, -0x1.2805e3084d708p-57, -0x1.5584f7e54ac3bp-56, 0x1.23dd07a2d9e84p-55, 0x1.11065895048ddp-55, 0x1.2884dff483cadp-54, 0x1.503cbd1e949dbp-56, -0x1.cbc3743797a9cp-54, 0x1.2ed02d75b3707p-55, 0x1.c2300696db532p-54, -0x1.1a5cd4f184b5cp-54, 0x1.39e8980a9cc8fp-55, -0x1.e9c23179c2893p-54, 0x1.dc7f486a4b6b0p-54, 0x1.9d3e12dd8a18bp-54, 0x1.74853f3a5931ep-55};
#define INV_C 0x1.71547652b82fep+6
#define C1 0x1.62e42fee00000p-7
#define C2 0x1.a39ef35793c76p-39
static const double EXP_TAIL[5] = {0x1.0000000000000p-1, 0x1.5555555555555p-3, 0x1.5555555555555p-5, 0x1.1111111111111p-7, 0x1.6c16c16c16c17p-10};
static const double LOG1P_TAIL[20] = {-0x1.0000000000000p-1, 0x1.5555555555555p-2, -0x1.0000000000000p-2, 0x1.999999999999ap-3, -0x1.5555555555555p-3, 0x1.2492492492492p-3, -0x1.0000000000000p-3, 0x1.c71c71c71c71cp-4, -0x1.999999999999ap-4, 0x1.745d1745d1746p-4, -0x1.5555555555555p-4, 0x1.3b13b13b13b14p-4, -0x1.2492492492492p-4, 0x1.1111111111111p-4, -0x1.0000000000000p-4, 0x1.e1e1e1e1e1e1ep-5, -0x1.c71c71c71c71cp-5, 0x1.af286bca1af28p-5, -0x1.999999999999ap-5, 0x1.8618618618618p-5};
static const double G_TAIL[18] = {0x1.5555555555555p-3, 0x1.5555555555555p-5, 0x1.1111111111111p-7, 0x1.6c16c16c16c17p-10, 0x1.a01a01a01a01ap-13, 0x1.a01a01a01a01ap-16, 0x1.71de3a556c734p-19, 0x1.27e4fb7789f5cp-22, 0x1.ae64567f544e4p-26, 0x1.1eed8eff8d898p-29, 0x1.6124613a86d09p-33, 0x1.93974a8c07c9dp-37, 0x1.ae7f3e733b81fp-41, 0x1.ae7f3e733b81fp-45, 0x1.952c77030ad4ap-49, 0x1.6827863b97d97p-53, 0x1.2f49b46814157p-57, 0x1.e542ba4020225p-62};

/* Rows longer than long_row are cut into segments of seg columns (set_segments changes
   them, so that the tests can send short rows through the segments). */
static Py_ssize_t long_row = 65536;
static Py_ssize_t seg = 16384;
#define PARALLEL_ELEMENTS 65536 /* inputs from this size on are shared among threads */
#define KAPPA_FAST 0.47       /* see _rows.py: above it, every term's exp in double-double */
#define TINY 0x1p-900
#define MAX_THREADS 256

enum { LSE = 0, SOFTMAX, LOG_SOFTMAX, LOG_SOFTMAX_DD, ENTROPY, CROSS_ENTROPY, KL };

/* ------------------------------------------------------------ error-free transformations */

/* s + err = a + b exactly, s = fl(a + b) (Knuth's TwoSum). */
static inline void two_sum(double a, double b, double *s, double *err)
{
    double x = a + b;
    double bb = x - a;
    *err = (a - (x - bb)) + (b - bb);
    *s = x;
}

static inline void split(double a, double *hi, double *lo)
{
    double c = 134217729.0 * a; /* 2^27 + 1 (Veltkamp) */
    double h = c - (c - a);
    *hi = h;
    *lo = a - h;
}

static inline double dekker(double a, double b, double p)
{
    double a1, a2, b1, b2;
    split(a, &a1, &a2);
    split(b, &b1, &b2);
    return ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2;
}

/* p + err = a * b exactly, p = fl(a * b) (Dekker's product). A factor beyond 2^995, whose
   split would overflow, is scaled by 2^-64 first (exact, and the product stays normal). */
static inline void two_prod(double a, double b, double *p, double *err)
{
    double prod = a * b;
    *p = prod;
    if (fabs(a) <= 0x1p995 && fabs(b) <= 0x1p995) {
        *err = dekker(a, b, prod);
        return;
    }
    if (!isfinite(prod)) {
        *err = NAN;
        return;
    }
    double sa = a, sb = b, scale = 1.0;
    if (fabs(a) > 0x1p995) {
        sa = a * 0x1p-64;
        scale = 0x1p64;
    }
    else {
        sb = b * 0x1p-64;
        scale = 0x1p64;
    }
    *err = dekker(sa, sb, sa * sb) * scale;
}

typedef struct {
    double hi, lo;
} DD;

/* Compensated accumulation: s + c carries the sum, c collecting TwoSum's errors. */
static inline void acc_add(DD *acc, double v)
{
    double s, e;
    two_sum(acc->hi, v, &s, &e);
    acc->hi = s;
    acc->lo += e;
}

static inline void acc_merge(DD *acc, DD part)
{
    acc_add(acc, part.hi);
    acc->lo += part.lo;
}

static inline DD normalized(DD a)
{
    DD r;
    two_sum(a.hi, a.lo, &r.hi, &r.lo);
    return r;
}

/* ------------------------------------------------------------ exp and log in double-double */

static inline double horner(double x, const double *c, int n)
{
    double acc = c[n - 1];
    for (int i = n - 2; i >= 0; i--) {
        acc *= x;
        acc += c[i];
    }
    return acc;
}

static inline double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline uint64_t to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* m * 2^n rounded once (as ldexp), for |n| <= 2044, without branches: the scale is two
   normal factors 2^(n >> 1) and 2^(n - (n >> 1)), built from their exponent bits. The first
   product is exact (normal) whenever |m| >= 2^-200, and the second rounds once; a first
   product below the normal range (|m| < 2^-200 with n < -1644) leaves a result below
   2^-1644, which rounds to 0 either way. */
static inline double ldexp2(double m, int64_t n)
{
    int64_t n1 = n >> 1, n2 = n - n1;
    return (m * from_bits((uint64_t)(n1 + 1023) << 52)) * from_bits((uint64_t)(n2 + 1023) << 52);
}

#define EXP_SHIFTER 0x1.8p52 /* x + 1.5 * 2^52 - 1.5 * 2^52 = rint(x) for |x| < 2^51 */

/* exp(x) in float64, branch-free (vectorisable), with a relative error below
   1.04 * 2^-53 (0.52 ULP) for results in the normal range, below 0.76 * 2^-1074 in
   absolute value (0.76 ULP) for subnormal results, exactly 0 for x < -745.14 (and -inf),
   +inf for x > 709.79 (and +inf), NaN for NaN.

   Cody-Waite: k = rint(x 64 / log 2) (|k| < 2^17), r = (x - k C1) - k C2 with C1 + C2 =
   log(2) / 64 (C1 of 32 bits: k C1 and x - k C1 are exact), |r| <= 0.005416. Then
   exp(x) = 2^(k >> 6) 2^((k & 63) / 64) e^r, the table value as T_HI + T_LO (2^-104
   relative), and e^r - 1 = q = r + r^2 P(r), P the degree-4 Taylor polynomial.
   Errors relative to the result before the last rounding, in units of u = 2^-53:
   r's rounding (|r| u and k C2's rounding, 3e-7 u): 0.0055 u;
   the truncation of the series (r^7 / 7!, 2.5e-4 u) and P's rounding (4e-5 u);
   q's rounding: 0.0055 u; T_HI q and (T_HI q) + T_LO: 0.0055 u each (T_HI < 2);
   the dropped T_LO q: 0.0055 u; in all below 0.03 u / e^-0.0055 < 0.031 u. The sum
   T_HI + (T_HI q + T_LO) rounds once (u) and the scaling by 2^(k >> 6) is exact
   (ldexp2) in the normal range: (1 + 0.031 u)(1 + u) - 1 < 1.04 u. A subnormal result is
   rounded once more by ldexp2, to the subnormal grid: half its ULP, 2^-1075, plus the
   0.52 ULP of the 53-bit value before it, whose ULP is at most 2^-1075: 0.76 * 2^-1074.
   Below 2^-1075 (1 - 2u), that is x < -745.1333, both roundings give exactly 0.
   (test_exp_fast_against_mpmath holds the bounds on a dense sweep.) */
static inline double exp_fast(double x)
{
    double shifted = x * INV_C + EXP_SHIFTER;
    double kf = shifted - EXP_SHIFTER;
    int64_t k = (int64_t)(to_bits(shifted) - to_bits(EXP_SHIFTER));
    double r = (x - kf * C1) - kf * C2;
    double p = EXP_TAIL[4];
    p = p * r + EXP_TAIL[3];
    p = p * r + EXP_TAIL[2];
    p = p * r + EXP_TAIL[1];
    p = p * r + EXP_TAIL[0];
    double q = r + (r * r) * p;
    int64_t j = k & 63;
    double y = T_HI[j] + (T_HI[j] * q + T_LO[j]);
    y = ldexp2(y, k >> 6);
    /* beyond [-746, 710] (where k C1 may be inexact, or the scale out of ldexp2's range)
       the result is selected, not computed: a clamp of x would let gcc split the loop on
       it and not vectorise */
    y = x < -746.0 ? 0.0 : y;
    return x > 710.0 ? INFINITY : y;
}

/* exp(x) for the coarse path (rows whose output is float32 or float16, see seg_fast_coarse),
   branch-free, for x <= 0: relative error below 2^-41.5 for x >= -708 (where exp(x) >
   2^-1021.4 is normal), exactly 0 for x < -708 (and -inf).

   k = rint(x 16 / log 2) (the shifter; |k| <= 16344 for x >= -708), r = x - k C16 with C16 =
   log(2) / 16 rounded, |r| <= 0.02167; exp(x) = 2^(k >> 4) 2^((k & 15) / 16) e^r, the table
   value T = T_HI[4 (k & 15)] (2^(j / 16) rounded), e^r = 1 + q, q = r + r^2 (1/2 + r/6 +
   r^2/24 + r^3/120) (Taylor to degree 5), and the power of 2 added to the exponent bits
   (exact: the result is normal). The errors, relative to exp(x):
   - r: k C16 rounds by at most 2^-44 (|k C16| < 709 < 2^10), and C16 is off log(2)/16 by
     at most 2^-58, times |k| < 2^14: 2^-44; x - k C16 is exact (Sterbenz: within a factor 2
     for k != 0); r is off by 2^-43 at most, which moves e^r by 2^-43 (1 + 2^-42);
   - the truncation of the series, relative: |r|^6 / 720 e^(2 |r|) < 1.6e-13 < 2^-42.5;
   - the roundings of the polynomial, of T (2^-53), of t q and t + t q: below 3 2^-53.
   In all below 2^-43 + 2^-42.5 + 2^-51.4 < 2^-41.7 (< 2^-41.5 is held by
   test_exp_coarse_against_mpmath on a dense sweep). x < -708 selects 0 (the terms left out
   are below e^-708 < 2^-1021: a float32 output cannot see them, see seg_fast_coarse). */
#define INV_C16 0x1.71547652b82fep+4 /* 16 / log 2 */
#define C16 0x1.62e42fefa39efp-5     /* log(2) / 16 */
#define COARSE_MIN -708.0
#define EXPONENT_BITS 0xfff0000000000000ULL
static const double EXP_COARSE[4] = {0x1.0000000000000p-1, 0x1.5555555555555p-3, 0x1.5555555555555p-5, 0x1.1111111111111p-7};

static inline double exp_coarse(double x)
{
    double shifted = x * INV_C16 + EXP_SHIFTER;
    double kf = shifted - EXP_SHIFTER;
    uint64_t k = to_bits(shifted) - to_bits(EXP_SHIFTER); /* k, two's complement */
    double r = x - kf * C16;
    double p = r * EXP_COARSE[3] + EXP_COARSE[2];
    p = p * r + EXP_COARSE[1];
    p = p * r + EXP_COARSE[0];
    double q = r + (r * r) * p;
    double t = T_HI[4 * (k & 15)];
    double y = t + t * q;
    /* (k << 48) & EXPONENT_BITS is (k >> 4) << 52: the exponent of y raised by k >> 4 */
    y = from_bits(to_bits(y) + ((k << 48) & EXPONENT_BITS));
    return x < COARSE_MIN ? 0.0 : y;
}

/* exp(hi + lo) = (m_hi + m_lo) 2^n, m_hi = 2^(j/64), relative error below 2^-58
   (expfam._core.dd.exp_dd_parts: Cody-Waite reduction by log(2)/64, a table, a
   polynomial). exp_parts clamps hi to [-1100, 1100], lo to [-1, 1] (NaN: -1100 and -1);
   exp_parts_clamped takes them clamped (the vector loops clamp in a loop of their own,
   as a clamp in the same loop lets gcc split it on the constant and not vectorise). */
static inline void exp_parts_clamped(double h, double l, double *m_hi, double *m_lo,
                                     int64_t *n)
{
    /* rint(h / (log(2) / 64)), ties to even, by adding and removing 1.5 * 2^52 */
    double shifted = h * INV_C + EXP_SHIFTER;
    double kf = shifted - EXP_SHIFTER;
    double r_hi = h - kf * C1;
    double r, r_err;
    two_sum(r_hi, l - kf * C2, &r, &r_err);
    double q = r * r * horner(r, EXP_TAIL, 5) + r_err * (1.0 + r);
    q += r;
    int64_t k = (int64_t)(to_bits(shifted) - to_bits(EXP_SHIFTER));
    int64_t j = k & 63;
    *m_hi = T_HI[j];
    *m_lo = T_HI[j] * q + T_LO[j] * (1.0 + r);
    *n = k >> 6;
}

static inline double clamp_hi(double hi)
{
    return hi > -1100.0 ? (hi < 1100.0 ? hi : 1100.0) : -1100.0;
}

static inline double clamp_lo(double lo)
{
    return lo >= -1.0 ? (lo <= 1.0 ? lo : 1.0) : -1.0;
}

static inline void exp_parts(double hi, double lo, double *m_hi, double *m_lo, int64_t *n)
{
    exp_parts_clamped(clamp_hi(hi), clamp_lo(lo), m_hi, m_lo, n);
}

static inline void exp_dd(double hi, double lo, double *e_hi, double *e_lo)
{
    double m_hi, m_lo;
    int64_t n;
    exp_parts(hi, lo, &m_hi, &m_lo, &n);
    *e_hi = ldexp2(m_hi, n);
    *e_lo = ldexp2(m_lo, n);
}

/* log(1 + t) of a double-double t > -1, relative error below 2^-56
   (expfam._core.dd.log1p_dd: a series below 0.1, else a Newton step on exp). */
static void log1p_dd(double t_hi, double t_lo, double *l_hi, double *l_lo)
{
    if (fabs(t_hi) < 0.1) {
        *l_hi = t_hi;
        *l_lo = t_hi * t_hi * horner(t_hi, LOG1P_TAIL, 20) + t_lo / (1.0 + t_hi);
        return;
    }
    double l0 = log1p(t_hi);
    double e_hi, e_lo, a_hi, a_lo;
    exp_dd(l0, 0.0, &e_hi, &e_lo);
    two_sum(1.0, t_hi, &a_hi, &a_lo);
    double residual = (e_hi - a_hi) + ((e_lo - a_lo) - t_lo);
    *l_hi = l0;
    *l_lo = -residual / (e_hi + e_lo);
}

/* ------------------------------------------------------------ one row */

typedef struct {
    const char *x; /* the row's first entry */
    int x32;       /* float32 entries (else float64) */
    double m;      /* the row maximum */
    Py_ssize_t k;  /* its first index */
    double beta;
    int scaled; /* beta != 1 */
} Row;

static inline double at(const Row *r, Py_ssize_t j)
{
    return r->x32 ? (double)((const float *)r->x)[j] : ((const double *)r->x)[j];
}

/* hi + lo = beta (v - m) exactly (lo >= -1; NaN corrections of -inf entries become -1).
   Where v - m passes the float range, the halves are shifted and the result doubled, so
   that a beta below 1 brings it back in range exactly. */
static inline void shift(const Row *r, double v, double *hi, double *lo)
{
    double s, e;
    two_sum(v, -r->m, &s, &e);
    int halves = isinf(s) && isfinite(v);
    if (halves)
        two_sum(0.5 * v, -0.5 * r->m, &s, &e);
    if (r->scaled) {
        double p, err;
        two_prod(s, r->beta, &p, &err);
        e = err + r->beta * e;
        s = p;
    }
    if (halves) {
        s *= 2.0;
        e *= 2.0;
    }
    *hi = s;
    *lo = e >= -1.0 ? e : -1.0;
}

static inline void put(char *out, int out32, Py_ssize_t i, double v)
{
    if (out32)
        ((float *)out)[i] = (float)v;
    else
        ((double *)out)[i] = v;
}

typedef struct {
    double m;
    Py_ssize_t k;
    int nan;
} MaxPart;

/* ------------------------------------------------------------ blocks (vectorised) */

/* The hot loops run over blocks of BLOCK entries held in stack arrays (L1), one simple loop
   per step, which gcc vectorises: load and convert, the exact shift, exp, the compensated
   accumulation in LANES interleaved accumulators (entry i of a segment in lane i % LANES,
   whatever the ISA, so that every build and every thread count gives the same bits), and
   the write-out. Every operation is rounded as written (-ffp-contract=off, no
   reassociation): the vector code computes what the scalar code does, lane by lane. On
   x86-64 the block functions are compiled for AVX-512, AVX2 and the baseline, and the
   loader picks one (target_clones). -DEXPFAM_NO_CLONES compiles one version, for the
   compiler's target, and -DEXPFAM_NO_LANE_VECTORS the scalar lanes: every such build
   gives the same bits (a check of the paragraph above). */
#define BLOCK 256
#define LANES 8

#if defined(__GNUC__) && defined(__x86_64__) && !defined(EXPFAM_NO_CLONES)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/* The lanes: LANES running values, updated by one vector operation per step. GCC and clang
   lower their vector types to the target's widest vectors (one AVX-512 register, two AVX2
   ones, four SSE2 ones), always the same operations; other compilers take the scalar
   loops, which compute the same. */
#if defined(__GNUC__) && !defined(EXPFAM_NO_LANE_VECTORS)
typedef double lane_d __attribute__((vector_size(LANES * sizeof(double))));
typedef int64_t lane_i __attribute__((vector_size(LANES * sizeof(int64_t))));
#define LANE_VECTORS 1
#endif

/* hi + lo (LANES compensated sums) += e_i (1 + c_i), entry i in lane i % LANES, for i < n:
   TwoSum of e_i, then its error and e_i c_i into lo. The whole vectors first, then the
   remaining entries one by one, by the same operations. */
static inline void lanes_add_corrected(double *hi, double *lo, const double *e, const double *c,
                                       Py_ssize_t n)
{
    Py_ssize_t i = 0;
#ifdef LANE_VECTORS
    Py_ssize_t whole = n / LANES * LANES;
    if (whole > 0) {
        lane_d h, l, v, w;
        memcpy(&h, hi, sizeof h);
        memcpy(&l, lo, sizeof l);
        for (; i < whole; i += LANES) {
            memcpy(&v, e + i, sizeof v);
            memcpy(&w, c + i, sizeof w);
            lane_d s = h + v, bb = s - h;
            lane_d err = (h - (s - bb)) + (v - bb);
            h = s;
            l += err;
            l += v * w;
        }
        memcpy(hi, &h, sizeof h);
        memcpy(lo, &l, sizeof l);
    }
#endif
    for (; i < n; i++) {
        Py_ssize_t j = i % LANES;
        double v = e[i], s, err;
        two_sum(hi[j], v, &s, &err);
        hi[j] = s;
        lo[j] += err;
        lo[j] += v * c[i];
    }
}

/* hi + lo (LANES compensated sums) += a_i, then += b_i, entry i in lane i % LANES. */
static inline void lanes_add_two(double *hi, double *lo, const double *a, const double *b,
                                 Py_ssize_t n)
{
    Py_ssize_t i = 0;
#ifdef LANE_VECTORS
    Py_ssize_t whole = n / LANES * LANES;
    if (whole > 0) {
        lane_d h, l, v;
        memcpy(&h, hi, sizeof h);
        memcpy(&l, lo, sizeof l);
        for (; i < whole; i += LANES) {
            memcpy(&v, a + i, sizeof v);
            lane_d s = h + v, bb = s - h;
            l += (h - (s - bb)) + (v - bb);
            memcpy(&v, b + i, sizeof v);
            h = s + v;
            bb = h - s;
            l += (s - (h - bb)) + (v - bb);
        }
        memcpy(hi, &h, sizeof h);
        memcpy(lo, &l, sizeof l);
    }
#endif
    for (; i < n; i++) {
        Py_ssize_t j = i % LANES;
        DD acc = {hi[j], lo[j]};
        acc_add(&acc, a[i]);
        acc_add(&acc, b[i]);
        hi[j] = acc.hi;
        lo[j] = acc.lo;
    }
}

/* The running maxima (first index of each, NaN flags) of LANES lanes over v[0..n), entry i
   at column j0 + i in lane i % LANES. */
static inline void lanes_max(double *m, int64_t *k, int64_t *nan, const double *v, Py_ssize_t n,
                             int64_t j0)
{
    Py_ssize_t i = 0;
#ifdef LANE_VECTORS
    Py_ssize_t whole = n / LANES * LANES;
    if (whole > 0) {
        lane_d lm, x;
        lane_i lk, ln, idx;
        memcpy(&lm, m, sizeof lm);
        memcpy(&lk, k, sizeof lk);
        memcpy(&ln, nan, sizeof ln);
        for (int j = 0; j < LANES; j++)
            idx[j] = j0 + j;
        for (; i < whole; i += LANES) {
            memcpy(&x, v + i, sizeof x);
            lane_i above = x > lm;
            lm = (lane_d)(((lane_i)x & above) | ((lane_i)lm & ~above));
            lk = (idx & above) | (lk & ~above);
            ln |= x != x;
            idx += LANES;
        }
        memcpy(m, &lm, sizeof lm);
        memcpy(k, &lk, sizeof lk);
        memcpy(nan, &ln, sizeof ln);
    }
#endif
    for (; i < n; i++) {
        Py_ssize_t j = i % LANES;
        double x = v[i];
        int above = x > m[j];
        m[j] = above ? x : m[j];
        k[j] = above ? j0 + i : k[j];
        nan[j] |= x != x;
    }
}

/* y[i] = exp_fast(x[i]) for i < n (the vectorised exp; see exp_fast for its bound). */
HOT static void exp_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        y[i] = exp_fast(x[i]);
}

/* The n entries of row r from column j0 as float64: in place, or converted into buf. */
static inline const double *row_block(const Row *r, Py_ssize_t j0, Py_ssize_t n, double *buf)
{
    if (!r->x32)
        return (const double *)r->x + j0;
    const float *x = (const float *)r->x + j0;
    for (Py_ssize_t i = 0; i < n; i++)
        buf[i] = (double)x[i];
    return buf;
}

/* The first maximum and whether there is a NaN, without branches: LANES running maxima
   (entry i of the segment in lane i % LANES, the first index of each kept), then the lane
   of the largest, the first index among equal ones. */
HOT static void seg_max(const Row *r, Py_ssize_t c0, Py_ssize_t c1, MaxPart *o)
{
    double lane_m[LANES], buf[BLOCK];
    int64_t lane_k[LANES], lane_nan[LANES];
    for (int l = 0; l < LANES; l++) {
        lane_m[l] = -INFINITY;
        lane_k[l] = c0;
        lane_nan[l] = 0;
    }
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        lanes_max(lane_m, lane_k, lane_nan, row_block(r, j0, n, buf), n, j0);
    }
    double m = lane_m[0];
    int64_t k = lane_k[0], nan = lane_nan[0];
    for (int l = 1; l < LANES; l++) {
        int take = lane_m[l] > m || (lane_m[l] == m && lane_k[l] < k);
        m = take ? lane_m[l] : m;
        k = take ? lane_k[l] : k;
        nan |= lane_nan[l];
    }
    o->m = m;
    o->k = k;
    o->nan = (int)nan;
}

/* hi + lo = beta (v - m) for the n entries of row r from column j0 (as shift() does, which
   takes the entries the vector loop cannot: v - m past the float range, or a product past
   Dekker's range). */
static inline void shift_block(const Row *r, Py_ssize_t j0, Py_ssize_t n, double *hi, double *lo)
{
    double buf[BLOCK];
    const double *v = row_block(r, j0, n, buf);
    const double m = -r->m, beta = r->beta;
    int slow = 0;
    if (!r->scaled)
        for (Py_ssize_t i = 0; i < n; i++) {
            double s = v[i] + m;
            double bb = s - v[i];
            double e = (v[i] - (s - bb)) + (m - bb);
            slow |= (fabs(s) > DBL_MAX) & (fabs(v[i]) <= DBL_MAX);
            hi[i] = s;
            lo[i] = e >= -1.0 ? e : -1.0;
        }
    else if (fabs(beta) <= 0x1p995)
        for (Py_ssize_t i = 0; i < n; i++) {
            double s = v[i] + m;
            double bb = s - v[i];
            double e = (v[i] - (s - bb)) + (m - bb);
            slow |= ((fabs(s) > DBL_MAX) & (fabs(v[i]) <= DBL_MAX)) |
                    ((fabs(s) > 0x1p995) & (fabs(s) <= DBL_MAX));
            double p = s * beta;
            e = dekker(s, beta, p) + beta * e;
            hi[i] = p;
            lo[i] = e >= -1.0 ? e : -1.0;
        }
    else
        slow = 1;
    if (slow)
        for (Py_ssize_t i = 0; i < n; i++)
            shift(r, v[i], &hi[i], &lo[i]);
}

static inline DD merge_lanes(const double *hi, const double *lo)
{
    DD t = {hi[0], lo[0]};
    for (int l = 1; l < LANES; l++)
        acc_merge(&t, (DD){hi[l], lo[l]});
    return t;
}

/* t = sum_{j != k} exp(hi_j) (1 + lo_j), exp_fast, compensated in LANES interleaved
   accumulators added in lane order; exp(hi_j) into store. */
HOT static DD seg_fast(const Row *r, Py_ssize_t c0, Py_ssize_t c1, double *store)
{
    double lane_hi[LANES] = {0.0}, lane_lo[LANES] = {0.0};
    double hi[BLOCK], lo[BLOCK], buf[BLOCK];
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        shift_block(r, j0, n, hi, lo);
        double *e = store ? store + j0 : buf;
        exp_block(hi, e, n);
        /* the term of the maximum is left out: zero while the block is summed */
        int has_k = r->k >= j0 && r->k < j0 + n;
        double e_k = has_k ? e[r->k - j0] : 0.0;
        if (has_k)
            e[r->k - j0] = 0.0;
        lanes_add_corrected(lane_hi, lane_lo, e, lo, n);
        if (has_k)
            e[r->k - j0] = e_k;
    }
    return merge_lanes(lane_hi, lane_lo);
}

/* t = sum_{j != k} exp(hi_j + lo_j) 2^up with exp in double-double, and (want_s)
   S = sum_{j != k} exp(d_j) (-d_j) 2^up, the products formed before the scaling so that
   subnormal terms keep their digits; LANES accumulators each. */
HOT static void seg_dd(const Row *r, Py_ssize_t c0, Py_ssize_t c1, int up, int want_s, DD *t,
                       DD *s)
{
    double t_hi[LANES] = {0.0}, t_lo[LANES] = {0.0}, s_hi[LANES] = {0.0}, s_lo[LANES] = {0.0};
    double hi[BLOCK], lo[BLOCK], h[BLOCK], l[BLOCK], m_hi[BLOCK], m_lo[BLOCK];
    double a[BLOCK], b[BLOCK], c[BLOCK], d[BLOCK];
    int64_t e[BLOCK];
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        shift_block(r, j0, n, hi, lo);
        for (Py_ssize_t i = 0; i < n; i++) {
            h[i] = clamp_hi(hi[i]);
            l[i] = clamp_lo(lo[i]);
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            exp_parts_clamped(h[i], l[i], &m_hi[i], &m_lo[i], &e[i]);
            e[i] += up;
            a[i] = ldexp2(m_hi[i], e[i]);
            b[i] = ldexp2(m_lo[i], e[i]);
        }
        if (want_s)
            for (Py_ssize_t i = 0; i < n; i++) {
                double dj = -hi[i] < 1100.0 ? -hi[i] : 1100.0;
                double p_hi = m_hi[i] * dj; /* m_hi < 2, dj <= 1100: Dekker's range */
                double p_err = dekker(m_hi[i], dj, p_hi);
                c[i] = ldexp2(p_hi, e[i]);
                d[i] = ldexp2(p_err - m_hi[i] * lo[i] + m_lo[i] * dj, e[i]);
            }
        if (r->k >= j0 && r->k < j0 + n)
            a[r->k - j0] = b[r->k - j0] = c[r->k - j0] = d[r->k - j0] = 0.0;
        /* both parts through TwoSum: a plain sum of the low parts, all of one sign when the
           terms are alike, would lose ~n u of them */
        lanes_add_two(t_hi, t_lo, a, b, n);
        if (want_s)
            lanes_add_two(s_hi, s_lo, c, d, n);
    }
    *t = merge_lanes(t_hi, t_lo);
    *s = merge_lanes(s_hi, s_lo);
}

/* ------------------------------------------------------------ the coarse path (float32 out)

   Rows of float32 (or float16) input whose output is rounded to float32 or float16
   (`coarse`) need their result to about 2^-30 relative before that rounding, not to the
   last bit of float64: the shift, exp and the sums run in plain float64 here. The bounds,
   relative, for the rows path (K <= 65536) and the segments alike (rows longer than that
   add 16384 columns a segment in these lanes, and the segments' sums in double-double):
   - d = beta (x - m) rounded twice (once for beta = 1): |d - d*| <= 2^-52 |d|, which moves
     e^d by 2^-52 |d| <= 2^-42.5 where it is not 0 (|d| <= 708);
   - exp_coarse: 2^-41.5; the terms below e^-708 left out are below 2^-1021 each;
   - t = sum_{j != k} e_j in LANES lanes of at most 8192 terms each (16384 / 8 or 65536 / 8
     a segment), non-negative, then the lanes in order: (8192 + 7) 2^-53 < 2^-40;
   so t (and S, the same with e_j min(-d_j, 1100), one more rounding) is within 2^-39 of
   itself, with the left-out terms below K 2^-1021 in absolute value.
   Outputs (u = 2^-53; the last rounding to float32 or float16 is apart):
   - softmax: p_j = e_j * (1 / (1 + t)), three more roundings: 2^-39 + 2^-51;
   - log_softmax: d_j - log(1 + t) with log1p in double-double; d_j <= 0 <= log1p t, so
     nothing cancels: 2^-39 + 2^-52;
   - cross_entropy: log1p(t) - d_y, two non-negative terms: 2^-39 + 2^-52;
   - entropy: log1p(t) + S / (1 + t), non-negative terms: 2^-38 + 2^-51;
   - logsumexp: m + log1p(t) may cancel, and t's error moves it by kappa 2^-39 of itself,
     kappa = t / ((1 + t) |m + log1p t|) (log1p_dd's 2^-56 adds kappa 2^-49 at most: for t
     >= 1, log1p t <= 2 log(K) kappa (1 + t) / t, and below 1 log1p t <= 2 kappa). Rows with
     kappa above KAPPA_COARSE = 2^9 take the float64 path (log_partition): the others are
     within 2^-30 + 2^-52. (log_softmax and cross_entropy have kappa <= 1.)
   So every output is within 2^-30 relative before its last rounding, 2^-6 of an ULP of
   float32: below 0.52 ULP after it (1 ULP for the log-domain kernels, 3 for softmax). The
   left-out terms (below 2^-1000 in all) move an output by less than float32's smallest
   subnormal, 2^-149. Every operation is rounded as written and the lanes are fixed: every
   build, thread count and segmentation gives the same bits. */
#define KAPPA_COARSE 512.0

#if defined(__GNUC__)
#define COARSE_INLINE static inline __attribute__((always_inline))
#else
#define COARSE_INLINE static inline
#endif

/* y[i] = exp_coarse(x[i]) for i < n: LANES at a time (the table in two vectors, looked up
   by a shuffle), then the rest one by one, by the same operations. */
COARSE_INLINE void exp_coarse_lanes(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    Py_ssize_t i = 0;
#ifdef LANE_VECTORS
    lane_d t0, t1;
    for (int l = 0; l < LANES; l++) {
        t0[l] = T_HI[4 * l];
        t1[l] = T_HI[4 * (l + LANES)];
    }
    for (; i + LANES <= n; i += LANES) {
        lane_d v;
        memcpy(&v, x + i, sizeof v);
        lane_d shifted = v * INV_C16 + EXP_SHIFTER;
        lane_d kf = shifted - EXP_SHIFTER;
        lane_i k = (lane_i)shifted - (int64_t)to_bits(EXP_SHIFTER);
        lane_d r = v - kf * C16;
        lane_d p = r * EXP_COARSE[3] + EXP_COARSE[2];
        p = p * r + EXP_COARSE[1];
        p = p * r + EXP_COARSE[0];
        lane_d q = r + (r * r) * p;
#if defined(__clang__)
        lane_d t;
        for (int l = 0; l < LANES; l++)
            t[l] = T_HI[4 * (k[l] & 15)];
#else
        lane_d t = __builtin_shuffle(t0, t1, k & 15);
#endif
        lane_d e = t + t * q;
        e = (lane_d)((lane_i)e + ((k << 48) & (int64_t)EXPONENT_BITS));
        lane_i low = v < COARSE_MIN;
        e = (lane_d)((lane_i)e & ~low);
        memcpy(y + i, &e, sizeof e);
    }
#endif
    for (; i < n; i++)
        y[i] = exp_coarse(x[i]);
}

/* y[i] = exp_coarse(x[i]) for i < n, by the vector loop (the test hook _engine.exp). */
HOT static void exp_coarse_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    exp_coarse_lanes(x, y, n);
}

/* acc (LANES plain sums) += a_i, entry i in lane i % LANES. */
COARSE_INLINE void lanes_add_plain(double *acc, const double *a, Py_ssize_t n)
{
    Py_ssize_t i = 0;
#ifdef LANE_VECTORS
    Py_ssize_t whole = n / LANES * LANES;
    if (whole > 0) {
        lane_d h, v;
        memcpy(&h, acc, sizeof h);
        for (; i < whole; i += LANES) {
            memcpy(&v, a + i, sizeof v);
            h += v;
        }
        memcpy(acc, &h, sizeof h);
    }
#endif
    for (; i < n; i++)
        acc[i % LANES] += a[i];
}

static inline double sum_lanes(const double *acc)
{
    double s = acc[0];
    for (int l = 1; l < LANES; l++)
        s += acc[l];
    return s;
}

/* d = beta (x - m) rounded, for the n float32 entries of row r from column j0. */
COARSE_INLINE void shift_block_coarse(const Row *r, Py_ssize_t j0, Py_ssize_t n, double *d)
{
    const float *x = (const float *)r->x + j0;
    const double m = r->m, beta = r->beta;
    if (r->scaled)
        for (Py_ssize_t i = 0; i < n; i++)
            d[i] = ((double)x[i] - m) * beta;
    else
        for (Py_ssize_t i = 0; i < n; i++)
            d[i] = (double)x[i] - m;
}

/* The coarse pass: t = sum_{j != k} e_j and (want_s) S = sum_{j != k} e_j min(-d_j, 1100),
   e_j = exp_coarse(d_j), in LANES plain sums each (lo = 0); e_j into store (softmax). */
HOT static void seg_fast_coarse(const Row *r, Py_ssize_t c0, Py_ssize_t c1, double *store,
                                int want_s, DD *t, DD *s)
{
    double t_acc[LANES] = {0.0}, s_acc[LANES] = {0.0};
    double d[BLOCK], buf[BLOCK], w[BLOCK];
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        shift_block_coarse(r, j0, n, d);
        double *e = store ? store + j0 : buf;
        exp_coarse_lanes(d, e, n);
        int has_k = r->k >= j0 && r->k < j0 + n;
        double e_k = has_k ? e[r->k - j0] : 0.0;
        if (has_k)
            e[r->k - j0] = 0.0;
        lanes_add_plain(t_acc, e, n);
        if (want_s) {
            for (Py_ssize_t i = 0; i < n; i++)
                w[i] = e[i] * (-d[i] < 1100.0 ? -d[i] : 1100.0);
            lanes_add_plain(s_acc, w, n);
        }
        if (has_k)
            e[r->k - j0] = e_k;
    }
    *t = (DD){sum_lanes(t_acc), 0.0};
    *s = (DD){sum_lanes(s_acc), 0.0};
}

/* ------------------------------------------------------------ threads */

typedef void (*range_fn)(void *ctx, Py_ssize_t i0, Py_ssize_t i1);

typedef struct {
    range_fn fn;
    void *ctx;
    Py_ssize_t i0, i1;
} Task;

static void *task_main(void *arg)
{
    Task *t = (Task *)arg;
    t->fn(t->ctx, t->i0, t->i1);
    return NULL;
}

/* fn on [0, n) cut into `threads` contiguous ranges, one per thread (the caller's first). */
static void parallel(range_fn fn, void *ctx, Py_ssize_t n, int threads)
{
    if (threads > n)
        threads = (int)n;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads <= 1) {
        fn(ctx, 0, n);
        return;
    }
    Task tasks[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        tasks[i].fn = fn;
        tasks[i].ctx = ctx;
        tasks[i].i0 = n * i / threads;
        tasks[i].i1 = n * (i + 1) / threads;
    }
    for (int i = 1; i < threads; i++)
        started[i] = pthread_create(&ids[i], NULL, task_main, &tasks[i]) == 0;
    fn(ctx, tasks[0].i0, tasks[0].i1);
    for (int i = 1; i < threads; i++) {
        if (started[i])
            pthread_join(ids[i], NULL);
        else /* no thread to be had: run it here */
            fn(ctx, tasks[i].i0, tasks[i].i1);
    }
}

/* ------------------------------------------------------------ the phases of a row */

enum { PH_MAX, PH_FAST, PH_DD, PH_WRITE, PH_KL_FLAGS, PH_KL_CENTRE, PH_KL_SUMS, PH_KL_LARGE, PH_COARSE };

typedef struct {
    MaxPart max;
    int bad;      /* NaN, +inf, or q = 0 on the support of p: the limits (Python) */
    int off;      /* some p_j = 0: -log q(S) is added (Python) */
    double d_max; /* the spread of d = z_p - z_q on the support */
    double d_min;
    int large; /* some p_j e^{x_j} > e^700 */
} KLPart;

typedef struct {
    int phase, kind;
    Py_ssize_t K, seglen, nseg;
    Row r;        /* the row (z_p for KL) */
    Row q;        /* z_q for KL */
    MaxPart *max; /* per segment */
    KLPart *kl;   /* per segment */
    DD *t, *s;    /* per-segment partial sums */
    int up, want_s;
    double *store; /* exp(hi) of the row (softmax), or NULL */
    char *out;     /* the row's output */
    int coarse; /* the coarse path (see seg_fast_coarse) */
    int out32;
    double l_hi, l_lo; /* log Z */
    double r_hi, r_lo; /* 1 / Z */
    double mu, centre, lq_hi, lq_lo;
    double offset; /* the output is offset + log Z (logsumexp: m; cross_entropy: -d_y) */
    int dd_first;  /* the previous row of this job took the dd pass (see log_partition) */
    struct KLBlock *kl_cache; /* KL: the terms of the row's blocks, from the centre pass to
                                 the sums (rows of one segment, up to KL_CACHE_ROW), or NULL */
} SegJob;

/* The outputs of softmax and log_softmax on columns [c0, c1), by blocks. */
HOT static void seg_write(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1)
{
    const Row *r = &J->r;
    double hi[BLOCK], lo[BLOCK], e[BLOCK], buf[BLOCK];
    const double r_hi = J->r_hi, r_lo = J->r_lo, l_hi = -J->l_hi, l_lo = J->l_lo;
    const int in_place = !J->out32 && J->kind != LOG_SOFTMAX_DD; /* y straight into out */
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        double *y = in_place ? (double *)J->out + j0 : buf;
        shift_block(r, j0, n, hi, lo);
        if (J->kind == SOFTMAX) {
            const double *ex = e;
            if (J->store)
                ex = J->store + j0;
            else
                exp_block(hi, e, n);
            for (Py_ssize_t i = 0; i < n; i++) {
                double c = ex[i] * lo[i];
                y[i] = ex[i] * r_hi + (c * r_hi + ex[i] * r_lo);
            }
            if (r->k >= j0 && r->k < j0 + n)
                y[r->k - j0] = r_hi + r_lo;
        }
        else
            for (Py_ssize_t i = 0; i < n; i++) {
                double s, err;
                two_sum(hi[i], l_hi, &s, &err);
                double rest = fabs(s) > DBL_MAX ? 0.0 : (err + lo[i]) - l_lo;
                if (J->kind == LOG_SOFTMAX_DD) {
                    e[i] = rest;
                    y[i] = s;
                }
                else
                    y[i] = s + rest;
            }
        if (J->kind == LOG_SOFTMAX_DD) {
            double *out = (double *)J->out + 2 * j0;
            for (Py_ssize_t i = 0; i < n; i++) {
                out[2 * i] = y[i];
                out[2 * i + 1] = e[i];
            }
        }
        else if (J->out32) {
            float *out = (float *)J->out + j0;
            for (Py_ssize_t i = 0; i < n; i++)
                out[i] = (float)y[i];
        }
    }
}

/* The coarse outputs of softmax (p_j = e_j r, r = 1 / (1 + t) in J->r_hi) and log_softmax
   (d_j - log Z, log Z = J->l_hi + J->l_lo rounded) on columns [c0, c1), by blocks (see
   seg_fast_coarse). */
HOT static void seg_write_coarse(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1)
{
    const Row *r = &J->r;
    double d[BLOCK], e[BLOCK], buf[BLOCK];
    const double rz = J->r_hi, lz = J->l_hi + J->l_lo;
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        double *y = J->out32 ? buf : (double *)J->out + j0;
        if (J->kind == SOFTMAX) {
            const double *ex = e;
            if (J->store)
                ex = J->store + j0;
            else {
                shift_block_coarse(r, j0, n, d);
                exp_coarse_lanes(d, e, n);
            }
            for (Py_ssize_t i = 0; i < n; i++)
                y[i] = ex[i] * rz;
        }
        else {
            shift_block_coarse(r, j0, n, d);
            for (Py_ssize_t i = 0; i < n; i++)
                y[i] = d[i] - lz;
        }
        if (J->out32) {
            float *out = (float *)J->out + j0;
            for (Py_ssize_t i = 0; i < n; i++)
                out[i] = (float)y[i];
        }
    }
}

/* ------------------------------------------------------------ KL, by blocks (vectorised) */

/* hi + lo (LANES compensated sums) += a_i, entry i in lane i % LANES (TwoSum). */
static inline void lanes_add_one(double *hi, double *lo, const double *a, Py_ssize_t n)
{
    Py_ssize_t i = 0;
#ifdef LANE_VECTORS
    Py_ssize_t whole = n / LANES * LANES;
    if (whole > 0) {
        lane_d h, l, v;
        memcpy(&h, hi, sizeof h);
        memcpy(&l, lo, sizeof l);
        for (; i < whole; i += LANES) {
            memcpy(&v, a + i, sizeof v);
            lane_d s = h + v, bb = s - h;
            l += (h - (s - bb)) + (v - bb);
            h = s;
        }
        memcpy(hi, &h, sizeof h);
        memcpy(lo, &l, sizeof l);
    }
#endif
    for (; i < n; i++) {
        Py_ssize_t j = i % LANES;
        DD acc = {hi[j], lo[j]};
        acc_add(&acc, a[i]);
        hi[j] = acc.hi;
        lo[j] = acc.lo;
    }
}

/* The flags of KL: bad (a NaN, a +inf, or q = 0 on the support of p), off (some p_j = 0),
   and the spread of d = z_p - z_q on the support (vp = -inf left out), as the largest and
   smallest keys of d (its bits, ordered as integers). Integer operations only, which gcc
   keeps in vectors, and no order: ORs, maxima and minima. */
typedef struct {
    int64_t bad, off, d_max, d_min;
} KLFlags;

#define ABS_BITS 0x7fffffffffffffffLL
#define INF_BITS 0x7ff0000000000000LL /* |v| at or above: +-inf or NaN */
#define NEG_INF_BITS ((int64_t)0xfff0000000000000ULL)

/* The bits of v as an integer of the same order (for non-NaN v). */
static inline int64_t order_key(double v)
{
    int64_t b = (int64_t)to_bits(v);
    return b ^ ((b >> 63) & ABS_BITS);
}

static inline double from_order_key(int64_t k)
{
    return from_bits((uint64_t)(k ^ ((k >> 63) & ABS_BITS)));
}

static inline void kl_flags(KLFlags *f, const double *vp, const double *vq, Py_ssize_t n)
{
    int64_t bad = f->bad, off = f->off, d_max = f->d_max, d_min = f->d_min;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t bp = (int64_t)to_bits(vp[i]), bq = (int64_t)to_bits(vq[i]);
        int64_t p_off = bp == NEG_INF_BITS, q_off = bq == NEG_INF_BITS;
        bad |= (((bp & ABS_BITS) >= INF_BITS) & !p_off) | (((bq & ABS_BITS) >= INF_BITS) & !q_off) |
               (q_off & !p_off);
        off |= p_off;
        int64_t k = order_key(vp[i] - vq[i]);
        int64_t k_hi = p_off ? INT64_MIN : k, k_lo = p_off ? INT64_MAX : k;
        d_max = k_hi > d_max ? k_hi : d_max;
        d_min = k_lo < d_min ? k_lo : d_min;
    }
    f->bad = bad;
    f->off = off;
    f->d_max = d_max;
    f->d_min = d_min;
}

/* PH_KL_FLAGS: the maximum of z_p (as seg_max) and the flags, in one pass. */
HOT static void seg_kl_flags(const Row *r, const Row *q, Py_ssize_t c0, Py_ssize_t c1, KLPart *o)
{
    double lane_m[LANES], bufp[BLOCK], bufq[BLOCK];
    int64_t lane_k[LANES], lane_nan[LANES];
    KLFlags f = {0, 0, INT64_MIN, INT64_MAX};
    for (int l = 0; l < LANES; l++) {
        lane_m[l] = -INFINITY;
        lane_k[l] = c0;
        lane_nan[l] = 0;
    }
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        const double *vp = row_block(r, j0, n, bufp), *vq = row_block(q, j0, n, bufq);
        lanes_max(lane_m, lane_k, lane_nan, vp, n, j0);
        kl_flags(&f, vp, vq, n);
    }
    KLPart part = {{lane_m[0], lane_k[0], 0}, f.bad != 0, f.off != 0, -INFINITY, INFINITY, 0};
    int64_t nan = lane_nan[0];
    for (int l = 1; l < LANES; l++) {
        int take = lane_m[l] > part.max.m || (lane_m[l] == part.max.m && lane_k[l] < part.max.k);
        part.max.m = take ? lane_m[l] : part.max.m;
        part.max.k = take ? lane_k[l] : part.max.k;
        nan |= lane_nan[l];
    }
    part.max.nan = nan != 0;
    if (f.d_max != INT64_MIN) { /* some class on the support */
        part.d_max = from_order_key(f.d_max);
        part.d_min = from_order_key(f.d_min);
    }
    *o = part;
}

/* All ones where c, else 0; and a where the mask m is all ones, else b: bitwise selects,
   which leave every operation computed (gcc does not if-convert a conditional floating-point
   operation, which may trap, and would not vectorise the loop). */
static inline uint64_t mask_if(int c)
{
    return (uint64_t)0 - (uint64_t)(c != 0);
}

static inline double select_d(uint64_t m, double a, double b)
{
    return from_bits((to_bits(a) & m) | (to_bits(b) & ~m));
}

/* The terms of KL on the n classes of a block from column j0: log p_j = lp_hi + lp_lo,
   p_j = (m_hi + m_lo) 2^e (normalized), p = m_hi 2^e, a + low = mu - d_j exactly, and
   on all ones on the support of p (z_p > -inf; elsewhere the terms are not used). */
typedef struct KLBlock {
    double lp_hi[BLOCK], lp_lo[BLOCK], m_hi[BLOCK], m_lo[BLOCK], p[BLOCK], a[BLOCK], low[BLOCK];
    int64_t e[BLOCK];
    uint64_t on[BLOCK];
} KLBlock;

/* Rows up to this length keep their terms from the centre pass to the sums (72 bytes a class,
   576 KiB a thread at most, in the L2 cache), instead of computing them again: the same
   values either way. */
#define KL_CACHE_ROW 8192

/* inlined into the hot functions, so that it is compiled for their targets */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void kl_block(const SegJob *J, Py_ssize_t j0, Py_ssize_t n, KLBlock *B)
{
    double hi[BLOCK], lo[BLOCK], h[BLOCK], l[BLOCK], bufp[BLOCK], bufq[BLOCK];
    const double *vp = row_block(&J->r, j0, n, bufp), *vq = row_block(&J->q, j0, n, bufq);
    const double l_hi = -J->l_hi, l_lo = J->l_lo, mu = J->mu;
    shift_block(&J->r, j0, n, hi, lo);
    for (Py_ssize_t i = 0; i < n; i++) {
        double s, err;
        two_sum(hi[i], l_hi, &s, &err);
        double rest = (err + lo[i]) - l_lo;
        B->lp_hi[i] = s;
        B->lp_lo[i] = select_d(mask_if(fabs(s) > DBL_MAX), 0.0, rest);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        h[i] = clamp_hi(B->lp_hi[i]);
        l[i] = clamp_lo(B->lp_lo[i]);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        double m_hi, m_lo, d_hi, d_lo, a_err;
        int64_t e;
        exp_parts_clamped(h[i], l[i], &m_hi, &m_lo, &e);
        two_sum(m_hi, m_lo, &B->m_hi[i], &B->m_lo[i]);
        B->e[i] = e;
        B->p[i] = ldexp2(B->m_hi[i], e);
        two_sum(vp[i], -vq[i], &d_hi, &d_lo);
        two_sum(mu, -d_hi, &B->a[i], &a_err);
        B->low[i] = a_err - d_lo;
        B->on[i] = mask_if(vp[i] > -INFINITY);
    }
}

/* PH_KL_CENTRE: sum p_j (mu - d_j) over the support. */
HOT static DD seg_kl_centre(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1)
{
    double lane_hi[LANES] = {0.0}, lane_lo[LANES] = {0.0}, v[BLOCK];
    KLBlock local;
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        KLBlock *restrict B = J->kl_cache ? &J->kl_cache[(j0 - c0) / BLOCK] : &local;
        kl_block(J, j0, n, B);
        for (Py_ssize_t i = 0; i < n; i++) {
            double term = B->p[i] * (B->a[i] + B->low[i]);
            v[i] = select_d(B->on[i], term, 0.0);
        }
        lanes_add_one(lane_hi, lane_lo, v, n);
    }
    return merge_lanes(lane_hi, lane_lo);
}

/* PH_KL_SUMS: r = sum p x and G = sum p g(x) over the support, x + x_lo = mu - d - centre,
   g(x) = e^x - 1 - x >= 0 as a normalized double-double (relative error about 2^-54) in
   two ways, both computed and one taken for each class: x^2 (1/2 + x P(x)) for |x| <= 1,
   e^x + (-1 - x) in double-double beyond; and p g(x) = exp(log p + x) (1 - (1 + x) e^-x),
   the last factor 1, for x > 600. The correction g(x + x_lo) = g(x) + expm1(x) x_lo takes
   expm1(x) = (g_hi + x) + g_lo (off by about 2^-54 g(x), times |x_lo| <= u |x|: far below
   u g(x) for |x| < 2^50). Sets *large where some p_j e^{x_j} passes e^700. */
HOT static void seg_kl_sums(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1, DD *r_sum, DD *g_sum,
                            int *large)
{
    double r_hi[LANES] = {0.0}, r_lo[LANES] = {0.0}, g_hi[LANES] = {0.0}, g_lo[LANES] = {0.0};
    double x[BLOCK], x_lo[BLOCK], eh[BLOCK], el[BLOCK], ph[BLOCK], pl[BLOCK], gh[BLOCK],
        gl[BLOCK];
    int64_t ne[BLOCK];
    KLBlock local;
    const double centre = J->centre;
    uint64_t big_any = 0;
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        KLBlock *restrict B = &local;
        if (J->kl_cache) /* kept by the centre pass */
            B = &J->kl_cache[(j0 - c0) / BLOCK];
        else
            kl_block(J, j0, n, B);
        uint64_t slow = 0, outside = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            double s_hi, s_err;
            two_sum(B->a[i], B->low[i] - centre, &x[i], &x_lo[i]);
            double px = B->p[i] * x[i], px_lo = B->p[i] * x_lo[i];
            ph[i] = select_d(B->on[i], px, 0.0);
            pl[i] = select_d(B->on[i], px_lo, 0.0);
            /* the argument of exp: log p + x above 600, else x */
            two_sum(B->lp_hi[i], x[i], &s_hi, &s_err);
            double s_lo = (s_err + B->lp_lo[i]) + x_lo[i];
            uint64_t big = mask_if(x[i] > 600.0);
            eh[i] = select_d(big, s_hi, x[i]);
            el[i] = select_d(big, s_lo, 0.0);
            double log_pe = (B->lp_hi[i] + B->lp_lo[i]) + x[i];
            big_any |= B->on[i] & mask_if(log_pe > 700.0);
            outside |= B->on[i] & mask_if(!(fabs(x[i]) <= 1.0));
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            eh[i] = clamp_hi(eh[i]);
            el[i] = clamp_lo(el[i]);
        }
        lanes_add_two(r_hi, r_lo, ph, pl, n);
        /* exp only where some class of the support takes it (the series' block skips it:
           the values it would give are not taken) */
        for (Py_ssize_t i = 0; outside && i < n; i++) {
            double m_hi, m_lo;
            exp_parts_clamped(eh[i], el[i], &m_hi, &m_lo, &ne[i]);
            eh[i] = ldexp2(m_hi, ne[i]);
            el[i] = ldexp2(m_lo, ne[i]);
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            double xi = x[i], h, err, s_hi, s_lo, p_hi, p_lo, c_hi, c_lo, t_hi, t_lo;
            /* the series, on xs = x (|x| <= 1) or 0 */
            uint64_t series = mask_if(fabs(xi) <= 1.0);
            double xs = select_d(series, xi, 0.0);
            double poly = G_TAIL[17];
            poly = poly * xs + G_TAIL[16];
            poly = poly * xs + G_TAIL[15];
            poly = poly * xs + G_TAIL[14];
            poly = poly * xs + G_TAIL[13];
            poly = poly * xs + G_TAIL[12];
            poly = poly * xs + G_TAIL[11];
            poly = poly * xs + G_TAIL[10];
            poly = poly * xs + G_TAIL[9];
            poly = poly * xs + G_TAIL[8];
            poly = poly * xs + G_TAIL[7];
            poly = poly * xs + G_TAIL[6];
            poly = poly * xs + G_TAIL[5];
            poly = poly * xs + G_TAIL[4];
            poly = poly * xs + G_TAIL[3];
            poly = poly * xs + G_TAIL[2];
            poly = poly * xs + G_TAIL[1];
            poly = poly * xs + G_TAIL[0];
            two_sum(0.5, xs * poly, &p_hi, &p_lo);
            s_hi = xs * xs;
            s_lo = dekker(xs, xs, s_hi);
            h = s_hi * p_hi;
            err = dekker(s_hi, p_hi, h);
            two_sum(h, err + s_hi * p_lo + s_lo * p_hi, &s_hi, &s_lo);
            /* e^x + (-1 - x) */
            two_sum(-1.0, -xi, &c_hi, &c_lo);
            two_sum(eh[i], c_hi, &h, &err);
            two_sum(h, err + el[i] + c_lo, &t_hi, &t_lo);
            double g = select_d(series, s_hi, t_hi);
            double g_l = select_d(series, s_lo, t_lo);
            double em1 = (g + xi) + g_l;
            gh[i] = g;
            double corrected = g_l + em1 * x_lo[i];
            gl[i] = select_d(mask_if(x_lo[i] != 0.0), corrected, g_l);
            slow |= mask_if(fabs(g) > 0x1p995);
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            double m_hi = B->m_hi[i], u_hi = m_hi * gh[i];
            double u_err = dekker(m_hi, gh[i], u_hi);
            double v_hi = ldexp2(u_hi, B->e[i]);
            double v_lo = ldexp2(u_err + m_hi * gl[i] + B->m_lo[i] * gh[i], B->e[i]);
            uint64_t big = mask_if(x[i] > 600.0);
            ph[i] = select_d(B->on[i], select_d(big, eh[i], v_hi), 0.0);
            pl[i] = select_d(B->on[i], select_d(big, el[i], v_lo), 0.0);
        }
        if (slow) /* some g past Dekker's range: the products again, by two_prod */
            for (Py_ssize_t i = 0; i < n; i++) {
                double u_hi, u_err;
                two_prod(B->m_hi[i], gh[i], &u_hi, &u_err);
                double v_hi = ldexp2(u_hi, B->e[i]);
                double v_lo = ldexp2(u_err + B->m_hi[i] * gl[i] + B->m_lo[i] * gh[i], B->e[i]);
                uint64_t big = mask_if(x[i] > 600.0);
                ph[i] = select_d(B->on[i], select_d(big, eh[i], v_hi), 0.0);
                pl[i] = select_d(B->on[i], select_d(big, el[i], v_lo), 0.0);
            }
        lanes_add_two(g_hi, g_lo, ph, pl, n);
    }
    *r_sum = merge_lanes(r_hi, r_lo);
    *g_sum = merge_lanes(g_hi, g_lo);
    *large = big_any != 0;
}

/* PH_KL_LARGE: sum p_j (log p_j - log q_j) over the support (J->q with its maximum, log Z_q
   = lq_hi + lq_lo). */
HOT static DD seg_kl_large(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1)
{
    double lane_hi[LANES] = {0.0}, lane_lo[LANES] = {0.0}, v[BLOCK], hq[BLOCK], lq[BLOCK];
    KLBlock B;
    const double lq_hi = -J->lq_hi, lq_lo = J->lq_lo;
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        kl_block(J, j0, n, &B);
        shift_block(&J->q, j0, n, hq, lq);
        for (Py_ssize_t i = 0; i < n; i++) {
            double s, err;
            two_sum(hq[i], lq_hi, &s, &err);
            double rest = (err + lq[i]) - lq_lo;
            double log_q = s + select_d(mask_if(fabs(s) > DBL_MAX), 0.0, rest);
            double term = B.p[i] * ((B.lp_hi[i] + B.lp_lo[i]) - log_q);
            v[i] = select_d(B.on[i], term, 0.0);
        }
        lanes_add_one(lane_hi, lane_lo, v, n);
    }
    return merge_lanes(lane_hi, lane_lo);
}

static void seg_kl(SegJob *J, Py_ssize_t s, Py_ssize_t c0, Py_ssize_t c1)
{
    if (J->phase == PH_KL_FLAGS)
        seg_kl_flags(&J->r, &J->q, c0, c1, &J->kl[s]);
    else if (J->phase == PH_KL_CENTRE)
        J->t[s] = seg_kl_centre(J, c0, c1);
    else if (J->phase == PH_KL_SUMS)
        seg_kl_sums(J, c0, c1, &J->t[s], &J->s[s], &J->kl[s].large);
    else
        J->t[s] = seg_kl_large(J, c0, c1);
}

static void seg_worker(void *ctx, Py_ssize_t s0, Py_ssize_t s1)
{
    SegJob *J = (SegJob *)ctx;
    for (Py_ssize_t s = s0; s < s1; s++) {
        Py_ssize_t c0 = s * J->seglen, c1 = c0 + J->seglen < J->K ? c0 + J->seglen : J->K;
        switch (J->phase) {
        case PH_MAX:
            seg_max(&J->r, c0, c1, &J->max[s]);
            break;
        case PH_FAST:
            J->t[s] = seg_fast(&J->r, c0, c1, J->store);
            break;
        case PH_DD:
            seg_dd(&J->r, c0, c1, J->up, J->want_s, &J->t[s], &J->s[s]);
            break;
        case PH_WRITE:
            if (J->coarse)
                seg_write_coarse(J, c0, c1);
            else
                seg_write(J, c0, c1);
            break;
        case PH_COARSE:
            seg_fast_coarse(&J->r, c0, c1, J->store, J->want_s, &J->t[s], &J->s[s]);
            break;
        default:
            seg_kl(J, s, c0, c1);
        }
    }
}

static void run_phase(SegJob *J, int phase, int threads)
{
    J->phase = phase;
    parallel(seg_worker, J, J->nseg, J->nseg > 1 ? threads : 1);
}

static MaxPart combine_max(const MaxPart *parts, Py_ssize_t n)
{
    MaxPart m = parts[0];
    for (Py_ssize_t s = 1; s < n; s++) {
        if (parts[s].m > m.m) {
            m.m = parts[s].m;
            m.k = parts[s].k;
        }
        m.nan |= parts[s].nan;
    }
    return m;
}

/* The segments' partial sums, added in segment order, as a normalized double-double. */
static DD combine(const DD *parts, Py_ssize_t n)
{
    DD acc = parts[0];
    for (Py_ssize_t s = 1; s < n; s++)
        acc_merge(&acc, parts[s]);
    return normalized(acc);
}

/* log Z = log1p(t) of the row J->r (m and k set) into J->l_hi + J->l_lo. */
/* kappa of the output offset + log1p(t), see log_partition */
static inline double kappa(const SegJob *J, double t)
{
    return t / ((1.0 + t) * fabs(J->offset + log1p(t)));
}

static void log_partition(SegJob *J, int threads)
{
    J->want_s = 0;
    if (J->coarse) { /* the coarse sum, unless kappa says the output cancels */
        J->store = NULL;
        run_phase(J, PH_COARSE, threads);
        DD t = combine(J->t, J->nseg);
        if (!(kappa(J, t.hi) > KAPPA_COARSE)) { /* t = 0 (NaN): log1p(t) = 0 exactly */
            log1p_dd(t.hi, t.lo, &J->l_hi, &J->l_lo);
            return;
        }
    }
    /* Rows of up to 10 entries (t <= 9, often above KAPPA_FAST), and rows after a row that
       needed the dd pass (dd_first, the thread's previous row: rows alike come together),
       take the dd pass first. Its result is the row's whenever the fast pass's test would
       send the row there anyway: kappa well above KAPPA_FAST (the two sums differ by a few
       u, kappa by less than 2^-20 of itself). Otherwise the fast pass decides, as always:
       the result does not depend on the order tried, nor on the thread's previous rows. */
    DD t_dd = {0.0, 0.0};
    int have_dd = 0;
    if (J->K <= 10 || J->dd_first) {
        J->up = 0;
        run_phase(J, PH_DD, threads);
        t_dd = combine(J->t, J->nseg);
        have_dd = 1;
        if (t_dd.hi >= TINY && (J->K <= 10 || kappa(J, t_dd.hi) > KAPPA_FAST * (1.0 + 0x1p-20))) {
            J->dd_first = 1;
            log1p_dd(t_dd.hi, t_dd.lo, &J->l_hi, &J->l_lo);
            return;
        }
    }
    J->store = NULL;
    run_phase(J, PH_FAST, threads);
    DD t = combine(J->t, J->nseg);
    if (t.hi < TINY) { /* log1p(t) = t: sum again scaled by 2^600, round once */
        J->up = 600;
        run_phase(J, PH_DD, threads);
        t = combine(J->t, J->nseg);
        J->l_hi = ldexp(t.hi, -600);
        J->l_lo = 0.0;
        return;
    }
    /* exp_fast's error (<= 1.04 * 2^-53) moves log1p(t) by 1.04 t / (1 + t) u, and the
       output offset + log1p(t) by 1.04 kappa u of itself, kappa =
       t / ((1 + t) |offset + log1p t|): above KAPPA_FAST every term is taken in
       double-double. The budget is the one of libm's exp (1.3 u) below 0.38:
       1.04 * 0.47 < 1.3 * 0.38. (offset 0: log_softmax, whose output at the argmax is
       -log1p t, and KL.) */
    J->dd_first = kappa(J, t.hi) > KAPPA_FAST;
    if (J->dd_first) {
        if (!have_dd) {
            J->up = 0;
            run_phase(J, PH_DD, threads);
            t_dd = combine(J->t, J->nseg);
        }
        t = t_dd;
    }
    log1p_dd(t.hi, t.lo, &J->l_hi, &J->l_lo);
}

/* H = log1p(t) + S / (1 + t) from double-double sums, rounded once. */
static double entropy_from_sums(DD t, DD s)
{
    double l_hi, l_lo, a_hi, a_lo, qa, qa_err, total, err;
    log1p_dd(t.hi, t.lo, &l_hi, &l_lo);
    two_sum(1.0, t.hi, &a_hi, &a_lo);
    a_lo += t.lo;
    double q_hi = s.hi / a_hi;
    two_prod(q_hi, a_hi, &qa, &qa_err);
    double q_lo = ((((s.hi - qa) - qa_err) + s.lo) - q_hi * a_lo) / a_hi;
    two_sum(l_hi, q_hi, &total, &err);
    double h = total + ((err + l_lo) + q_lo);
    return h > 0.0 ? h : 0.0;
}

typedef struct {
    int kind;
    const char *x, *x2; /* x2: z_q for KL */
    int x32;
    Py_ssize_t rows, K;
    const double *betas; /* one per row, or NULL: beta */
    double beta;
    const int64_t *target;
    char *out;
    int out32;
    int coarse; /* x32, and the output rounded to float32 or float16: seg_fast_coarse */
    unsigned char *status; /* KL: 0 done, 1 limits left to Python, 2 add -log q(S) */
    int threads;
    int failed; /* out of memory */
} Job;

/* Rows whose maximum is not finite, or with a NaN: the exact limits (see _rows.py). */
static void special_row(const SegJob *J, const Job *G, Py_ssize_t i, MaxPart mp)
{
    Py_ssize_t posinf = 0;
    for (Py_ssize_t j = 0; j < J->K; j++)
        posinf += at(&J->r, j) == INFINITY;
    double c = (double)posinf;
    int none = mp.nan || posinf == 0;
    int kind = J->kind;
    if (kind == LSE)
        put(J->out, J->out32, 0, mp.nan ? NAN : (c > 0 ? INFINITY : -INFINITY));
    else if (kind == ENTROPY)
        put(J->out, J->out32, 0, none ? NAN : log(c));
    else if (kind == CROSS_ENTROPY)
        put(J->out, J->out32, 0,
            none ? NAN : (at(&J->r, G->target[i]) == INFINITY ? log(c) : INFINITY));
    else
        for (Py_ssize_t j = 0; j < J->K; j++) {
            int top = at(&J->r, j) == INFINITY;
            double v = none ? NAN
                            : (kind == SOFTMAX ? (top ? 1.0 / c : 0.0) : (top ? -log(c) : -INFINITY));
            if (kind == LOG_SOFTMAX_DD) {
                ((double *)J->out)[2 * j] = v;
                ((double *)J->out)[2 * j + 1] = 0.0;
            }
            else
                put(J->out, J->out32, j, v);
        }
}

static void kl_row(SegJob *J, const Job *G, Py_ssize_t i, int threads)
{
    run_phase(J, PH_KL_FLAGS, threads);
    KLPart f = J->kl[0];
    for (Py_ssize_t s = 1; s < J->nseg; s++) {
        KLPart p = J->kl[s];
        if (p.max.m > f.max.m) {
            f.max.m = p.max.m;
            f.max.k = p.max.k;
        }
        f.bad |= p.bad;
        f.off |= p.off;
        f.d_max = p.d_max > f.d_max ? p.d_max : f.d_max;
        f.d_min = p.d_min < f.d_min ? p.d_min : f.d_min;
    }
    if (f.bad || !isfinite(f.max.m) || !isfinite(f.d_max - f.d_min)) {
        G->status[i] = 1;
        return;
    }
    J->r.m = f.max.m;
    J->r.k = f.max.k;
    log_partition(J, threads);
    double d_lo;
    two_sum(at(&J->r, J->r.k), -at(&J->q, J->r.k), &J->mu, &d_lo);
    J->centre = 0.0;
    run_phase(J, PH_KL_CENTRE, threads);
    J->centre = combine(J->t, J->nseg).hi;
    run_phase(J, PH_KL_SUMS, threads);
    double r = combine(J->t, J->nseg).hi;
    DD g = combine(J->s, J->nseg);
    int large = 0;
    for (Py_ssize_t s = 0; s < J->nseg; s++)
        large |= J->kl[s].large;
    double kl;
    if (large) { /* KL > 700 and G overflows: sum p (log p - log q) */
        Row p_row = J->r;
        double l_hi = J->l_hi, l_lo = J->l_lo;
        J->r = J->q;
        J->r.m = -INFINITY;
        run_phase(J, PH_MAX, threads);
        MaxPart mq = combine_max(J->max, J->nseg);
        J->r.m = mq.m;
        J->r.k = mq.k;
        log_partition(J, threads);
        J->q = J->r;
        J->lq_hi = J->l_hi;
        J->lq_lo = J->l_lo;
        J->r = p_row;
        J->l_hi = l_hi;
        J->l_lo = l_lo;
        run_phase(J, PH_KL_LARGE, threads);
        kl = combine(J->t, J->nseg).hi;
    }
    else {
        double l_hi, l_lo;
        log1p_dd(g.hi, g.lo, &l_hi, &l_lo);
        double y = r / (1.0 + g.hi);
        double h = fabs(y) < 1e-4 ? y * y * (y / 3.0 - 0.5) : log1p(y) - y;
        kl = l_hi + ((l_lo - r * g.hi / (1.0 + g.hi)) + h);
    }
    ((double *)G->out)[i] = kl > 0.0 ? kl : 0.0;
    G->status[i] = f.off && !large ? 2 : 0; /* the large branch's log q is over all classes */
}

/* One row of G, on `threads` threads (its segments). */
static void process_row(SegJob *J, const Job *G, Py_ssize_t i, int threads, double *scratch)
{
    size_t xs = G->x32 ? 4 : 8, os = G->out32 ? 4 : 8;
    int kind = G->kind;
    J->kind = kind;
    J->r.x = G->x + (size_t)i * G->K * xs;
    J->r.x32 = G->x32;
    J->r.beta = G->betas ? G->betas[i] : G->beta;
    J->r.scaled = J->r.beta != 1.0;
    J->r.m = 0.0;
    J->r.k = 0;
    J->out32 = G->out32;
    J->coarse = G->coarse;
    J->offset = 0.0;
    if (kind == KL) {
        J->q = J->r;
        J->q.x = G->x2 + (size_t)i * G->K * xs;
        J->out32 = 0;
        kl_row(J, G, i, threads);
        return;
    }
    if (kind == SOFTMAX || kind == LOG_SOFTMAX)
        J->out = G->out + (size_t)i * G->K * os;
    else if (kind == LOG_SOFTMAX_DD)
        J->out = G->out + (size_t)i * G->K * 16;
    else
        J->out = G->out + (size_t)i * os;
    run_phase(J, PH_MAX, threads);
    MaxPart mp = combine_max(J->max, J->nseg);
    if (mp.nan || !isfinite(mp.m)) {
        special_row(J, G, i, mp);
        return;
    }
    J->r.m = mp.m;
    J->r.k = mp.k;
    if (kind == ENTROPY && J->coarse) {
        J->want_s = 1;
        J->store = NULL;
        run_phase(J, PH_COARSE, threads);
        put(J->out, J->out32, 0, entropy_from_sums(combine(J->t, J->nseg), combine(J->s, J->nseg)));
        return;
    }
    if (kind == ENTROPY) {
        J->up = 0;
        J->want_s = 1;
        run_phase(J, PH_DD, threads);
        DD t = combine(J->t, J->nseg), s = combine(J->s, J->nseg);
        double h;
        if (t.hi < TINY) { /* 1 + t = 1 to the last digit: H = t + S, scaled by 2^600 */
            J->up = 600;
            run_phase(J, PH_DD, threads);
            t = combine(J->t, J->nseg);
            s = combine(J->s, J->nseg);
            h = ldexp((t.hi + s.hi) + (t.lo + s.lo), -600);
            h = h > 0.0 ? h : 0.0;
        }
        else
            h = entropy_from_sums(t, s);
        put(J->out, J->out32, 0, h);
        return;
    }
    if (kind == SOFTMAX) {
        /* p = (e + c) / (1 + t) with 1 / (1 + t) = r_hi + r_lo in double-double */
        J->store = G->out32 ? scratch : (double *)J->out;
        if (J->coarse) { /* p = e * (1 / (1 + t)), see seg_fast_coarse */
            J->want_s = 0;
            run_phase(J, PH_COARSE, threads);
            J->r_hi = 1.0 / (1.0 + combine(J->t, J->nseg).hi);
            run_phase(J, PH_WRITE, threads);
            return;
        }
        run_phase(J, PH_FAST, threads);
        DD t = combine(J->t, J->nseg);
        double z_hi, z_err, p, p_err;
        two_sum(1.0, t.hi, &z_hi, &z_err);
        J->r_hi = 1.0 / z_hi;
        two_prod(J->r_hi, z_hi, &p, &p_err);
        J->r_lo = (((1.0 - p) - p_err) - J->r_hi * (z_err + t.lo)) / z_hi;
        run_phase(J, PH_WRITE, threads);
        return;
    }
    double d_hi = 0.0, d_lo = 0.0;
    if (kind == LSE)
        J->offset = J->r.m;
    else if (kind == CROSS_ENTROPY) {
        shift(&J->r, at(&J->r, G->target[i]), &d_hi, &d_lo);
        J->offset = -d_hi;
    }
    log_partition(J, threads);
    if (kind == LSE) {
        double total, err;
        two_sum(J->r.m, J->l_hi, &total, &err);
        put(J->out, J->out32, 0, total + (err + J->l_lo));
    }
    else if (kind == CROSS_ENTROPY) { /* log Z - d_y: two non-negative terms */
        double total, err;
        two_sum(J->l_hi, -d_hi, &total, &err);
        put(J->out, J->out32, 0, isinf(total) ? total : total + (err + (J->l_lo - d_lo)));
    }
    else
        run_phase(J, PH_WRITE, threads);
}

/* Short rows: each row on one thread, one segment. */
static void rows_worker(void *ctx, Py_ssize_t i0, Py_ssize_t i1)
{
    Job *G = (Job *)ctx;
    MaxPart max;
    KLPart kl;
    DD t, s;
    SegJob J;
    memset(&J, 0, sizeof J);
    J.K = J.seglen = G->K;
    J.nseg = 1;
    J.max = &max;
    J.kl = &kl;
    J.t = &t;
    J.s = &s;
    J.kl_cache = NULL;
    if (G->kind == KL && G->K <= KL_CACHE_ROW) /* NULL: the terms again */
        J.kl_cache = (KLBlock *)malloc((size_t)((G->K + BLOCK - 1) / BLOCK) * sizeof(KLBlock));
    double *scratch = NULL;
    if (G->kind == SOFTMAX && G->out32)
        scratch = (double *)malloc((size_t)G->K * sizeof(double)); /* NULL: exp again */
    for (Py_ssize_t i = i0; i < i1; i++)
        process_row(&J, G, i, 1, scratch);
    free(scratch);
    free(J.kl_cache);
}

static void run_job(Job *G)
{
    if (G->K <= long_row) {
        int threads = (double)G->rows * (double)G->K >= PARALLEL_ELEMENTS ? G->threads : 1;
        parallel(rows_worker, G, G->rows, threads);
        return;
    }
    /* Long rows: one at a time, their segments shared among the threads. */
    SegJob J;
    memset(&J, 0, sizeof J);
    J.K = G->K;
    J.seglen = seg;
    J.nseg = (G->K + seg - 1) / seg;
    J.max = (MaxPart *)malloc(J.nseg * sizeof(MaxPart));
    J.kl = (KLPart *)malloc(J.nseg * sizeof(KLPart));
    J.t = (DD *)malloc(J.nseg * sizeof(DD));
    J.s = (DD *)malloc(J.nseg * sizeof(DD));
    if (J.max && J.kl && J.t && J.s)
        for (Py_ssize_t i = 0; i < G->rows; i++)
            process_row(&J, G, i, G->threads, NULL);
    else
        G->failed = 1;
    free(J.max);
    free(J.kl);
    free(J.t);
    free(J.s);
}

/* ------------------------------------------------------------ elementwise kernels */

/* The two-class kernels of _elementwise.py, one block function over float64 each (the
   docstrings there give the algorithms and their bounds), applied by ew_range to a
   contiguous float64 or float32 buffer on `threads` contiguous ranges (float32 converted
   to float64 and the result rounded once), and by ew_one to a Python float. */

enum { EW_SIGMOID = 0, EW_LOG_SIGMOID, EW_SOFTPLUS, EW_LOGIT, EW_LOG1MEXP };

#define LN2 0x1.62e42fefa39efp-1

/* The kernels run over blocks of at most BLOCK entries in stack arrays, one simple loop
   per step, which gcc vectorises (as the row engine's blocks): exp in float64 is exp_fast
   and exp in double-double exp_parts_clamped (branch-free, vectorised); the double-double
   log1p takes libm's log1p (scalar) only on the entries that need it, gathered by index.
   A Python float runs the same block function on a block of one entry, so that it gets
   the bits of the array path. NaN comes back as it came, on every path (selected at the
   end: the sign of a NaN through arithmetic is the compiler's choice). */

/* The helpers of the block functions are inlined into each of them, and so compiled for
   each target of target_clones (a helper left out of line is compiled for the baseline). */
#if defined(__GNUC__)
#define EW_INLINE static inline __attribute__((always_inline))
#else
#define EW_INLINE static inline
#endif

/* horner unrolled, so that the loops calling it vectorise (the same operations). */
EW_INLINE double horner_unrolled(double x, const double *c, int n)
{
    double acc = c[n - 1];
#pragma GCC unroll 24
    for (int i = n - 2; i >= 0; i--) {
        acc *= x;
        acc += c[i];
    }
    return acc;
}

#define SQRT_HALF_BITS 0x3fe6a09e667f3bcdULL /* the bits of sqrt(1/2) */
static const double ATANH_TAIL[9] = {2.0, 2.0 / 3, 2.0 / 5, 2.0 / 7, 2.0 / 9, 2.0 / 11, 2.0 / 13, 2.0 / 15, 2.0 / 17};

/* log(x) for a normal x > 0, branch-free (vectorised), within 2^-42 absolute of the truth
   (x = 2^k m, m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(z), z = (m - 1) / (m + 1),
   |z| <= 0.1716, by its series to z^17 (the rest below 2^-56 |z|), a few roundings of
   2^-53; k as a float by the shifter, and k log 2 off by |k| 2^-55 + 2^-44 for |k| < 1024:
   2^-42.7 measured on 5 10^7 normal x against logl). The seed of a Newton step on exp in
   double-double, which leaves delta^2 / 2 < 2^-85 of the error delta of log_seed. Anything
   else gives garbage, which the callers do not select. */
EW_INLINE double log_seed(double x)
{
    uint64_t off = to_bits(x) - SQRT_HALF_BITS;
    uint64_t k_biased = (off ^ 0x8000000000000000ULL) >> 52; /* k + 2048 */
    double m = from_bits(to_bits(x) - ((k_biased - 2048) << 52));
    double kf = from_bits(to_bits(EXP_SHIFTER) + k_biased) - (EXP_SHIFTER + 2048.0);
    double z = (m - 1.0) / (m + 1.0);
    return kf * LN2 + z * horner_unrolled(z * z, ATANH_TAIL, 9);
}

/* e_hi + e_lo = exp_dd(x_i) for i < n, x already clamped (clamp_hi). */
EW_INLINE void exp_dd_lanes(const double *x, double *e_hi, double *e_lo, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        double m_hi, m_lo;
        int64_t k;
        exp_parts_clamped(x[i], 0.0, &m_hi, &m_lo, &k);
        e_hi[i] = ldexp2(m_hi, k);
        e_lo[i] = ldexp2(m_lo, k);
    }
}

/* l_hi + l_lo = log(1 + t_hi + t_lo) for i < n, within 2^-56 relative, as log1p_dd:
   its series where |t_hi| < 0.1 (every entry, in a vector loop), else its Newton step on
   exp from the seed log_seed(1 + t_hi) (the step leaves below 2^-85 of log_seed's error),
   in vector loops over those entries only, gathered into arrays of their own. */
EW_INLINE void log1p_dd_lanes(const double *t_hi, const double *t_lo, double *l_hi,
                              double *l_lo, Py_ssize_t n)
{
    double h[BLOCK], l[BLOCK], u[BLOCK], c[BLOCK], e_hi[BLOCK], e_lo[BLOCK];
    int32_t idx[BLOCK];
    for (Py_ssize_t i = 0; i < n; i++) {
        double th = t_hi[i];
        l_hi[i] = th;
        l_lo[i] = th * th * horner_unrolled(th, LOG1P_TAIL, 20) + t_lo[i] / (1.0 + th);
    }
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        idx[m] = (int32_t)i;
        m += !(fabs(t_hi[i]) < 0.1);
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        h[j] = t_hi[idx[j]];
        l[j] = t_lo[idx[j]];
    }
    for (Py_ssize_t j = 0; j < m; j++)
        u[j] = log_seed(1.0 + h[j]);
    for (Py_ssize_t j = 0; j < m; j++)
        c[j] = clamp_hi(u[j]);
    exp_dd_lanes(c, e_hi, e_lo, m);
    for (Py_ssize_t j = 0; j < m; j++) {
        double a_hi, a_lo;
        two_sum(1.0, h[j], &a_hi, &a_lo);
        double residual = (e_hi[j] - a_hi) + ((e_lo[j] - a_lo) - l[j]);
        c[j] = -residual / (e_hi[j] + e_lo[j]);
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        l_hi[idx[j]] = u[j];
        l_lo[idx[j]] = c[j];
    }
}

/* 1 / (1 + e^{-w}) = n / s, s = 1 + e, e = e^{-|w|} (exp_fast), with the rounding r of s
   put back: n / s (1 - r / s), r = e - (s - 1) exact (Fast2Sum). The correction is below
   2^-52 of the result, so 1 / s is taken to 2^-52 without a second division: p for n = 1,
   1 - p for n = e (1 / (1 + e) = 1 - e / (1 + e)). */
HOT static void sigmoid_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    double e[BLOCK];
    for (Py_ssize_t i = 0; i < n; i++)
        e[i] = exp_fast(-fabs(x[i]));
    for (Py_ssize_t i = 0; i < n; i++) {
        double w = x[i], ei = e[i];
        double s = 1.0 + ei;
        int up = w >= 0.0;
        double p = (up ? 1.0 : ei) / s;
        double r = ei - (s - 1.0);
        double v = p - p * (r * (up ? p : 1.0 - p));
        y[i] = w != w ? w : v;
    }
}

/* log(1 + e^w) = max(w, 0) + log1p(e^{-|w|}), e^{-|w|} and log1p in double-double
   (exp_parts, log1p_dd), rounded once; +inf for w = +inf; below -40, e^w (1 - e^w / 2 +
   ...) = e^w to 2^-58, formed from exp_parts before the scaling (one rounding, subnormals
   included). */
EW_INLINE void softplus_lanes(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    double a[BLOCK], m_hi[BLOCK], m_lo[BLOCK], t_hi[BLOCK], t_lo[BLOCK], l_hi[BLOCK],
        l_lo[BLOCK];
    int64_t k[BLOCK];
    for (Py_ssize_t i = 0; i < n; i++)
        a[i] = clamp_hi(-fabs(x[i]));
    for (Py_ssize_t i = 0; i < n; i++) {
        exp_parts_clamped(a[i], 0.0, &m_hi[i], &m_lo[i], &k[i]);
        two_sum(ldexp2(m_hi[i], k[i]), ldexp2(m_lo[i], k[i]), &t_hi[i], &t_lo[i]);
    }
    log1p_dd_lanes(t_hi, t_lo, l_hi, l_lo, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        double w = x[i], top, err;
        two_sum(w > 0.0 ? w : 0.0, l_hi[i], &top, &err);
        double v = top + (err + l_lo[i]);
        double tail = ldexp2(m_hi[i] + m_lo[i], k[i]);
        v = w < -40.0 ? tail : v;
        v = w == INFINITY ? w : v;
        y[i] = w != w ? w : v;
    }
}

HOT static void softplus_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    softplus_lanes(x, y, n);
}

/* log sigmoid(w) = -softplus(-w) (0 - v: +0 at w = inf). */
HOT static void log_sigmoid_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    double v[BLOCK];
    for (Py_ssize_t i = 0; i < n; i++)
        v[i] = -x[i];
    softplus_lanes(v, y, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        double w = x[i];
        y[i] = w != w ? w : 0.0 - y[i];
    }
}

/* log(s_hi + s_lo) as l_hi + l_lo for a double-double s > 0: log(s_hi) refined by a Newton
   step on exp (exp_dd), absolute error about 2^-57, where s_hi is normal; below 2^-1000,
   where |log s| > 690 absorbs the first-order error, without the step. */
static inline void log_dd2(double s_hi, double s_lo, double *l_hi, double *l_lo)
{
    double l0 = log(s_hi);
    *l_hi = l0;
    if (!(s_hi >= 0x1p-1000)) {
        *l_lo = s_hi > 0.0 ? s_lo / s_hi : 0.0;
        return;
    }
    double e_hi, e_lo;
    exp_dd(l0, 0.0, &e_hi, &e_lo);
    *l_lo = ((s_hi - e_hi) + (s_lo - e_lo)) / s_hi;
}

/* log(p / (1 - p)) with 1 - p = c_hi + c_lo (TwoSum) and q_hi + q_lo = a / (1 - p) (the
   quotient a / c_hi with one correction, Dekker's product exact as |q_hi|, c_hi < 2^995):
   for p < 1/4, a = p and log_dd2 of r = p / (1 - p) in double-double (|log r| > 1.09);
   above, a = 2p - 1 (exact) and log1p_dd of u = (2p - 1) / (1 - p). Both Newton steps on
   exp (one exp_dd for every entry) start from log_seed (its error squared, below 2^-85),
   log1p_dd's series where |u| < 0.1; libm's log only where r < 2^-1000 (gathered), where
   log_dd2 takes no step. Rounded once; inf at 1, NaN outside [0, 1]. */
HOT static void logit_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    double q_hi[BLOCK], q_lo[BLOCK], u[BLOCK], c[BLOCK], e_hi[BLOCK], e_lo[BLOCK];
    int32_t idx[BLOCK];
    for (Py_ssize_t i = 0; i < n; i++) {
        double p = x[i], c_hi, c_lo, prod;
        two_sum(1.0, -p, &c_hi, &c_lo);
        double a = p < 0.25 ? p : 2.0 * p - 1.0;
        double q = a / c_hi;
        prod = q * c_hi;
        q_hi[i] = q;
        q_lo[i] = ((a - prod) - dekker(q, c_hi, prod) - q * c_lo) / c_hi;
    }
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        idx[m] = (int32_t)i;
        m += x[i] < 0.25 && !(q_hi[i] >= 0x1p-1000);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        double q = q_hi[i];
        double above = fabs(q) < 0.1 ? q : log_seed(1.0 + q);
        u[i] = x[i] < 0.25 ? log_seed(q) : above;
    }
    for (Py_ssize_t j = 0; j < m; j++)
        u[idx[j]] = log(q_hi[idx[j]]);
    for (Py_ssize_t i = 0; i < n; i++)
        c[i] = clamp_hi(u[i]);
    exp_dd_lanes(c, e_hi, e_lo, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        double p = x[i], qh = q_hi[i], ql = q_lo[i], a_hi, a_lo;
        /* log_dd2 of r = q */
        double newton = ((qh - e_hi[i]) + (ql - e_lo[i])) / qh;
        double first = qh > 0.0 ? ql / qh : 0.0;
        double below = u[i] + (qh >= 0x1p-1000 ? newton : first);
        /* log1p_dd of u = q */
        double series = qh * qh * horner_unrolled(qh, LOG1P_TAIL, 20) + ql / (1.0 + qh);
        two_sum(1.0, qh, &a_hi, &a_lo);
        double residual = (e_hi[i] - a_hi) + ((e_lo[i] - a_lo) - ql);
        double above = u[i] + (fabs(qh) < 0.1 ? series : -residual / (e_hi[i] + e_lo[i]));
        double v = p < 0.25 ? below : above;
        v = p == 1.0 ? INFINITY : v;
        y[i] = p >= 0.0 && p <= 1.0 ? v : NAN;
    }
}

/* log(1 - e^x), Maechler's switch at -log 2, in double-double: above it, log_dd2 of
   -expm1(x) = -x - g(x), g(x) = e^x - 1 - x (g_dd's series; |log| >= log 2); below,
   log1p_dd of -e^x (exp_parts, log1p_dd_lanes). NaN for x > 0. The entries of each branch
   are gathered and run through its vector loops. log_dd2's Newton step starts from
   log_seed (its error squared, below 2^-85, beside log_dd2's 2^-57), and libm's log only
   on the entries whose -expm1(x) is below 2^-1000 (gathered: x > -2^-1000), where log_dd2
   takes no step. */
HOT static void log1mexp_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    double v[BLOCK], c[BLOCK], t_hi[BLOCK], t_lo[BLOCK], l_hi[BLOCK], l_lo[BLOCK],
        s_hi[BLOCK], s_lo[BLOCK], e_hi[BLOCK], e_lo[BLOCK];
    int32_t above[BLOCK], below[BLOCK], idx[BLOCK];
    Py_ssize_t na = 0, nb = 0, m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        above[na] = (int32_t)i;
        na += x[i] > -LN2;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        below[nb] = (int32_t)i;
        nb += !(x[i] > -LN2);
    }
    /* below the switch: log1p_dd of -e^x */
    for (Py_ssize_t j = 0; j < nb; j++)
        c[j] = clamp_hi(x[below[j]]);
    exp_dd_lanes(c, t_hi, t_lo, nb);
    for (Py_ssize_t j = 0; j < nb; j++)
        two_sum(-t_hi[j], -t_lo[j], &t_hi[j], &t_lo[j]);
    log1p_dd_lanes(t_hi, t_lo, l_hi, l_lo, nb);
    for (Py_ssize_t j = 0; j < nb; j++)
        y[below[j]] = l_hi[j] + l_lo[j];
    /* above: -expm1(x) = s_hi + s_lo (g_dd's series, |x| <= 1: two_prod is Dekker's
       product), then log_dd2 */
    for (Py_ssize_t j = 0; j < na; j++)
        v[j] = x[above[j]];
    for (Py_ssize_t j = 0; j < na; j++) {
        double w = v[j], p_hi, p_lo, q_hi, q_lo, h, err, g_hi, g_lo, d;
        two_sum(0.5, w * horner_unrolled(w, G_TAIL, 18), &p_hi, &p_lo);
        q_hi = w * w;
        q_lo = dekker(w, w, q_hi);
        h = q_hi * p_hi;
        err = dekker(q_hi, p_hi, h);
        two_sum(h, err + q_hi * p_lo + q_lo * p_hi, &g_hi, &g_lo);
        two_sum(-w, -g_hi, &s_hi[j], &d);
        s_lo[j] = d - g_lo;
    }
    for (Py_ssize_t j = 0; j < na; j++) {
        idx[m] = (int32_t)j;
        m += !(s_hi[j] >= 0x1p-1000);
    }
    for (Py_ssize_t j = 0; j < na; j++)
        l_hi[j] = log_seed(s_hi[j]);
    for (Py_ssize_t k = 0; k < m; k++)
        l_hi[idx[k]] = log(s_hi[idx[k]]);
    for (Py_ssize_t j = 0; j < na; j++)
        c[j] = clamp_hi(l_hi[j]);
    exp_dd_lanes(c, e_hi, e_lo, na);
    for (Py_ssize_t j = 0; j < na; j++) {
        double sh = s_hi[j], sl = s_lo[j];
        double newton = ((sh - e_hi[j]) + (sl - e_lo[j])) / sh;
        double first = sh > 0.0 ? sl / sh : 0.0;
        v[j] = l_hi[j] + (sh >= 0x1p-1000 ? newton : first);
    }
    for (Py_ssize_t j = 0; j < na; j++)
        y[above[j]] = v[j];
    for (Py_ssize_t i = 0; i < n; i++) {
        double w = x[i];
        y[i] = w != w ? w : (w > 0.0 ? NAN : y[i]);
    }
}

typedef void (*ew_block_fn)(const double *restrict, double *restrict, Py_ssize_t);

static const ew_block_fn ew_blocks[] = {sigmoid_block, log_sigmoid_block, softplus_block,
                                        logit_block, log1mexp_block};

static double ew_one(int kind, double v)
{
    double y;
    ew_blocks[kind](&v, &y, 1);
    return y;
}

typedef struct {
    int kind, f32; /* float32 buffers (else float64) */
    const char *x;
    char *out;
} EwJob;

/* The kernel on entries [i0, i1) of the job: block by block through the stack (so that the
   output may be the input), float32 converted on the way in and rounded once on the way
   out. */
static void ew_range(void *ctx, Py_ssize_t i0, Py_ssize_t i1)
{
    const EwJob *J = (const EwJob *)ctx;
    ew_block_fn f = ew_blocks[J->kind];
    double in[BLOCK], out[BLOCK];
    for (Py_ssize_t j0 = i0; j0 < i1; j0 += BLOCK) {
        Py_ssize_t n = i1 - j0 < BLOCK ? i1 - j0 : BLOCK;
        if (J->f32) {
            const float *x = (const float *)J->x + j0;
            float *o = (float *)J->out + j0;
            for (Py_ssize_t i = 0; i < n; i++)
                in[i] = (double)x[i];
            f(in, out, n);
            for (Py_ssize_t i = 0; i < n; i++)
                o[i] = (float)out[i];
        }
        else {
            memcpy(in, (const double *)J->x + j0, (size_t)n * sizeof(double));
            f(in, (double *)J->out + j0, n);
        }
    }
}

#define EW_NOGIL 4096 /* from this many entries on, the GIL is released */

/* ------------------------------------------------------------ logsumexp with weights */

/* m + log S for a double-double S = s_hi + s_lo > 0, rounded once: log1p(S - 1) near
   S = 1 (s_hi - 1 exact there), where a tiny log keeps its digits; log S elsewhere. */
static inline double m_plus_log(double m, double s_hi, double s_lo)
{
    double l_hi, l_lo, top, err;
    if (fabs(s_hi - 1.0) < 0.5)
        log1p_dd(s_hi - 1.0, s_lo, &l_hi, &l_lo);
    else
        log_dd2(s_hi, s_lo, &l_hi, &l_lo);
    two_sum(m, l_hi, &top, &err);
    return top + (err + l_lo);
}

typedef struct {
    const double *a, *b; /* rows of K, C-contiguous */
    double *value, *sign;
    Py_ssize_t K;
} WlseJob;

/* (log |sum_j b_j e^{a_j}|, sign) of one row; entries with b_j = 0 are left out. */
static void wlse_row(const double *a, const double *b, Py_ssize_t K, double *value, double *sign)
{
    /* the first maximum of a over the terms, and whether a NaN or a negative weight */
    double m = -INFINITY;
    Py_ssize_t k = -1;
    int nan = 0, negative = 0;
    for (Py_ssize_t j = 0; j < K; j++) {
        if (b[j] == 0.0)
            continue;
        nan |= a[j] != a[j] || b[j] != b[j];
        negative |= b[j] < 0.0;
        if (a[j] > m) {
            m = a[j];
            k = j;
        }
    }
    if (nan) {
        *value = *sign = NAN;
        return;
    }
    if (m == -INFINITY) { /* no term, or only terms e^-inf: the empty sum */
        *value = -INFINITY;
        *sign = 0.0;
        return;
    }
    if (m == INFINITY) { /* the weights of the infinite terms decide */
        double w = 0.0;
        for (Py_ssize_t j = 0; j < K; j++)
            if (b[j] != 0.0 && a[j] == INFINITY)
                w += b[j];
        *value = w == 0.0 || w != w ? NAN : INFINITY;
        *sign = w > 0.0 ? 1.0 : (w < 0.0 ? -1.0 : (w == 0.0 ? 0.0 : NAN));
        return;
    }
    /* terms b_j e^{d_j}, d_j = a_j - m = hi + lo exactly */
    DD pos = {0.0, 0.0}, neg = {0.0, 0.0};
    for (Py_ssize_t j = 0; j < K; j++) {
        double bj = b[j];
        if (bj == 0.0 || (!negative && j == k))
            continue;
        double hi, lo, e_hi, e_lo, v_hi, v_lo, p, err;
        two_sum(a[j], -m, &hi, &lo);
        lo = lo >= -1.0 ? lo : -1.0; /* NaN corrections of -inf entries */
        exp_dd(hi, lo, &e_hi, &e_lo);
        two_sum(e_hi, e_lo, &e_hi, &e_lo); /* exp_dd's parts overlap */
        if (negative && hi > -1.0) {
            /* b + b expm1(d): exact cancellations such as e^1e-10 - 1 */
            double em1 = expm1(hi) + (e_hi + e_lo) * lo, n_hi, n_err;
            two_prod(bj, em1, &p, &err);
            two_sum(bj, p, &n_hi, &n_err);
            v_hi = n_hi;
            v_lo = n_err + err;
        }
        else {
            two_prod(bj, e_hi, &p, &err);
            v_hi = p;
            v_lo = err + bj * e_lo;
        }
        if (!negative || v_hi > 0.0) {
            acc_add(&pos, v_hi);
            pos.lo += v_lo;
        }
        else {
            acc_add(&neg, -v_hi);
            neg.lo -= v_lo;
        }
    }
    if (!negative) { /* m + log1p((b_k - 1) + t), S = b_k + t in double-double */
        double s_hi, s_err, s_lo;
        two_sum(b[k], pos.hi, &s_hi, &s_err);
        two_sum(s_hi, s_err + pos.lo, &s_hi, &s_lo);
        *value = m_plus_log(m, s_hi, s_lo);
        *sign = 1.0;
        return;
    }
    double total, total_err, total_lo;
    two_sum(pos.hi, -neg.hi, &total, &total_err);
    two_sum(total, total_err + (pos.lo - neg.lo), &total, &total_lo);
    if (total == 0.0) {
        *value = -INFINITY;
        *sign = 0.0;
        return;
    }
    double direction = total < 0.0 ? -1.0 : 1.0;
    *value = m_plus_log(m, total * direction, total_lo * direction);
    *sign = direction;
}

static void wlse_range(void *ctx, Py_ssize_t i0, Py_ssize_t i1)
{
    const WlseJob *J = (const WlseJob *)ctx;
    for (Py_ssize_t i = i0; i < i1; i++) {
        wlse_row(J->a + i * J->K, J->b + i * J->K, J->K, J->value + i, J->sign + i);
        if (J->value[i] != J->value[i]) /* infinite weights among finite terms too */
            J->sign[i] = NAN;
    }
}

/* ------------------------------------------------------------ cross_entropy, probability targets */

/* -sum_j q_j log p_j of one row, p = softmax(beta z): log Z by the row engine's
   log_partition (one segment), each -log p_j = l - d_j in double-double, the products
   q_j (-log p_j) by Dekker's product and summed compensated (all terms >= 0). Classes
   with q_j = 0 are left out; weight on a class of probability 0 (a -inf logit, or beside
   a +inf one), or a term past float64, costs inf; a NaN anywhere gives NaN. */
static double soft_ce_row(const double *z, const double *q, Py_ssize_t K, double beta)
{
    int nan = 0, weighted = 0;
    for (Py_ssize_t j = 0; j < K; j++) {
        nan |= q[j] != q[j];
        weighted |= q[j] > 0.0;
    }
    MaxPart max;
    DD t, s;
    SegJob J;
    memset(&J, 0, sizeof J);
    J.K = J.seglen = K;
    J.nseg = 1;
    J.max = &max;
    J.t = &t;
    J.s = &s;
    J.r.x = (const char *)z;
    J.r.beta = beta;
    J.r.scaled = beta != 1.0;
    run_phase(&J, PH_MAX, 1);
    if (nan || max.nan)
        return NAN;
    if (max.m == -INFINITY) /* no distribution */
        return weighted ? NAN : 0.0;
    if (max.m == INFINITY) { /* the c entries +inf share the mass: -log p = log c there */
        double c = 0.0, on_top = 0.0;
        int off = 0;
        for (Py_ssize_t j = 0; j < K; j++)
            c += z[j] == INFINITY;
        for (Py_ssize_t j = 0; j < K; j++)
            if (q[j] > 0.0) {
                if (z[j] == INFINITY)
                    on_top += q[j];
                else
                    off = 1;
            }
        return off ? INFINITY : on_top * log(c);
    }
    J.r.m = max.m;
    J.r.k = max.k;
    log_partition(&J, 1);
    DD acc = {0.0, 0.0};
    for (Py_ssize_t j = 0; j < K; j++) {
        if (!(q[j] > 0.0))
            continue;
        if (z[j] == -INFINITY)
            return INFINITY;
        double hi, lo, lp, err, p, p_err;
        shift(&J.r, z[j], &hi, &lo);
        two_sum(hi, -J.l_hi, &lp, &err);
        if (isinf(lp)) { /* beta (z_j - m) past float64: q (l - d) in halves */
            double half = beta * (0.5 * z[j] - 0.5 * J.r.m);
            acc_add(&acc, 2.0 * (q[j] * (0.5 * J.l_hi - half)));
            continue;
        }
        two_prod(q[j], -lp, &p, &p_err);
        if (isinf(p))
            return INFINITY;
        acc_add(&acc, p);
        acc.lo += p_err - q[j] * ((err + lo) - J.l_lo);
    }
    return isinf(acc.hi) ? acc.hi : acc.hi + acc.lo;
}

typedef struct {
    const double *z, *q, *beta; /* rows of K; one beta per row */
    double *out;
    Py_ssize_t K;
} SoftCEJob;

static void soft_ce_range(void *ctx, Py_ssize_t i0, Py_ssize_t i1)
{
    const SoftCEJob *J = (const SoftCEJob *)ctx;
    for (Py_ssize_t i = i0; i < i1; i++)
        J->out[i] = soft_ce_row(J->z + i * J->K, J->q + i * J->K, J->K, J->beta[i]);
}

/* ------------------------------------------------------------ the Python module */

static int format_is(const Py_buffer *b, char c)
{
    const char *f = b->format;
    if (f == NULL)
        return c == 'B';
    if (*f == '<' || *f == '=' || *f == '@')
        f++;
    return f[0] == c && f[1] == '\0';
}

static int is_int64(const Py_buffer *b)
{
    return b->itemsize == 8 && (format_is(b, 'l') || format_is(b, 'q'));
}

static int get(PyObject *o, Py_buffer *b, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(o, b, flags) < 0) {
        PyErr_Format(PyExc_TypeError, "%s: expected a C-contiguous%s array", name,
                     writable ? " writable" : "");
        return -1;
    }
    return 0;
}

static int float_kind(const Py_buffer *b)
{
    if (format_is(b, 'd') && b->itemsize == 8)
        return 64;
    if (format_is(b, 'f') && b->itemsize == 4)
        return 32;
    return 0;
}

PyDoc_STRVAR(rows_doc,
             "rows(kind, x, beta, target, out, threads, coarse=False)\n--\n\n"
             "Run row kernel ``kind`` (0 logsumexp, 1 softmax, 2 log_softmax, 3 log_softmax_dd,\n"
             "4 entropy, 5 cross_entropy) on the rows of the C-contiguous float32/float64\n"
             "matrix ``x`` into ``out`` (float32/float64; float64 pairs for log_softmax_dd),\n"
             "at inverse temperature ``beta`` (a float, or a float64 array, one per row),\n"
             "with class indices ``target`` (int64, one per row) for cross_entropy.\n"
             "``coarse``: float32 ``x`` whose output is rounded to float32 or float16 takes\n"
             "the coarse path (plain float64, within 2**-30 before that rounding).\n"
             "The GIL is released; ``threads`` threads share the work.");

static PyObject *py_rows(PyObject *self, PyObject *args)
{
    (void)self;
    int kind, threads, coarse = 0;
    PyObject *xo, *beta_o, *target_o, *out_o;
    if (!PyArg_ParseTuple(args, "iOOOOi|p", &kind, &xo, &beta_o, &target_o, &out_o, &threads,
                          &coarse))
        return NULL;
    if (kind < LSE || kind > CROSS_ENTROPY) {
        PyErr_Format(PyExc_ValueError, "kind: expected 0 to 5, got %d", kind);
        return NULL;
    }
    Py_buffer xb, bb, tb, ob;
    int have_b = 0, have_t = 0, have_o = 0;
    PyObject *result = NULL;
    Job G;
    memset(&G, 0, sizeof G);
    if (get(xo, &xb, 0, "x") < 0)
        return NULL;
    if (xb.ndim != 2 || !float_kind(&xb)) {
        PyErr_SetString(PyExc_TypeError, "x: expected a 2-d float32 or float64 array");
        goto done;
    }
    G.kind = kind;
    G.x = (const char *)xb.buf;
    G.x32 = float_kind(&xb) == 32;
    G.coarse = coarse && G.x32 && kind != LOG_SOFTMAX_DD;
    G.rows = xb.shape[0];
    G.K = xb.shape[1];
    G.threads = threads < 1 ? 1 : threads;
    if (PyFloat_Check(beta_o) || PyLong_Check(beta_o)) {
        G.beta = PyFloat_AsDouble(beta_o);
        if (G.beta == -1.0 && PyErr_Occurred())
            goto done;
    }
    else {
        if (get(beta_o, &bb, 0, "beta") < 0)
            goto done;
        have_b = 1;
        if (float_kind(&bb) != 64 || bb.len != G.rows * 8) {
            PyErr_SetString(PyExc_TypeError, "beta: expected a float64 array, one per row");
            goto done;
        }
        G.betas = (const double *)bb.buf;
    }
    if (kind == CROSS_ENTROPY) {
        if (get(target_o, &tb, 0, "target") < 0)
            goto done;
        have_t = 1;
        if (!is_int64(&tb) || tb.len != G.rows * 8) {
            PyErr_SetString(PyExc_TypeError, "target: expected an int64 array, one per row");
            goto done;
        }
        G.target = (const int64_t *)tb.buf;
        for (Py_ssize_t i = 0; i < G.rows; i++)
            if (G.target[i] < 0 || G.target[i] >= G.K) {
                PyErr_Format(PyExc_ValueError,
                             "target: class index %lld is out of range [0, %zd)",
                             (long long)G.target[i], G.K);
                goto done;
            }
    }
    if (get(out_o, &ob, 1, "out") < 0)
        goto done;
    have_o = 1;
    int ok = float_kind(&ob);
    Py_ssize_t n = kind == LSE || kind == ENTROPY || kind == CROSS_ENTROPY ? G.rows
                   : kind == LOG_SOFTMAX_DD                                 ? 2 * G.rows * G.K
                                                                            : G.rows * G.K;
    if (!ok || ob.len != n * ob.itemsize || (kind == LOG_SOFTMAX_DD && ok != 64)) {
        PyErr_SetString(PyExc_TypeError, "out: expected a float32/64 array of the output's size");
        goto done;
    }
    G.out = (char *)ob.buf;
    G.out32 = ok == 32;
    if (G.rows > 0 && G.K > 0) {
        Py_BEGIN_ALLOW_THREADS run_job(&G);
        Py_END_ALLOW_THREADS
    }
    if (G.failed)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&xb);
    if (have_b)
        PyBuffer_Release(&bb);
    if (have_t)
        PyBuffer_Release(&tb);
    if (have_o)
        PyBuffer_Release(&ob);
    return result;
}

PyDoc_STRVAR(kl_doc, "kl(zp, zq, out, status, threads)\n--\n\n"
                     "KL(p || q) along the rows of the logits ``zp``, ``zq`` (C-contiguous,\n"
                     "both float32 or both float64, one shape) into ``out`` (float64), by the\n"
                     "centred series. ``status`` (uint8, one per row) is set to 0 where done,\n"
                     "1 where a limit is left to the caller (NaN, infinities, q = 0 < p),\n"
                     "2 where the caller adds -log q(supp p). The GIL is released.");

static PyObject *py_kl(PyObject *self, PyObject *args)
{
    (void)self;
    int threads;
    PyObject *po, *qo, *out_o, *status_o;
    if (!PyArg_ParseTuple(args, "OOOOi", &po, &qo, &out_o, &status_o, &threads))
        return NULL;
    Py_buffer pb, qb, ob, sb;
    int have_q = 0, have_o = 0, have_s = 0;
    PyObject *result = NULL;
    Job G;
    memset(&G, 0, sizeof G);
    if (get(po, &pb, 0, "zp") < 0)
        return NULL;
    if (get(qo, &qb, 0, "zq") < 0)
        goto done;
    have_q = 1;
    if (pb.ndim != 2 || qb.ndim != 2 || !float_kind(&pb) || float_kind(&pb) != float_kind(&qb) ||
        pb.shape[0] != qb.shape[0] || pb.shape[1] != qb.shape[1]) {
        PyErr_SetString(PyExc_TypeError, "zp, zq: expected 2-d float arrays of one shape and dtype");
        goto done;
    }
    G.kind = KL;
    G.x = (const char *)pb.buf;
    G.x2 = (const char *)qb.buf;
    G.x32 = float_kind(&pb) == 32;
    G.rows = pb.shape[0];
    G.K = pb.shape[1];
    G.beta = 1.0;
    G.threads = threads < 1 ? 1 : threads;
    if (get(out_o, &ob, 1, "out") < 0)
        goto done;
    have_o = 1;
    if (get(status_o, &sb, 1, "status") < 0)
        goto done;
    have_s = 1;
    if (float_kind(&ob) != 64 || ob.len != G.rows * 8 || sb.itemsize != 1 || sb.len != G.rows) {
        PyErr_SetString(PyExc_TypeError, "out, status: expected float64 and uint8, one per row");
        goto done;
    }
    G.out = (char *)ob.buf;
    G.status = (unsigned char *)sb.buf;
    if (G.rows > 0 && G.K > 0) {
        Py_BEGIN_ALLOW_THREADS run_job(&G);
        Py_END_ALLOW_THREADS
    }
    if (G.failed)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&pb);
    if (have_q)
        PyBuffer_Release(&qb);
    if (have_o)
        PyBuffer_Release(&ob);
    if (have_s)
        PyBuffer_Release(&sb);
    return result;
}

PyDoc_STRVAR(two_sum_doc, "two_sum(a, b)\n--\n\n"
                          "(s, err) with s + err = a + b exactly: the engine's TwoSum.");

static PyObject *py_two_sum(PyObject *self, PyObject *args)
{
    (void)self;
    double a, b, s, e;
    if (!PyArg_ParseTuple(args, "dd", &a, &b))
        return NULL;
    two_sum(a, b, &s, &e);
    return Py_BuildValue("dd", s, e);
}

PyDoc_STRVAR(two_prod_doc, "two_prod(a, b)\n--\n\n"
                           "(p, err) with p + err = a * b exactly: the engine's Dekker product.");

static PyObject *py_two_prod(PyObject *self, PyObject *args)
{
    (void)self;
    double a, b, p, e;
    if (!PyArg_ParseTuple(args, "dd", &a, &b))
        return NULL;
    two_prod(a, b, &p, &e);
    return Py_BuildValue("dd", p, e);
}

PyDoc_STRVAR(exp_dd_doc, "exp_dd(hi, lo)\n--\n\n"
                         "exp(hi + lo) as (e_hi, e_lo), relative error below 2**-58.");

static PyObject *py_exp_dd(PyObject *self, PyObject *args)
{
    (void)self;
    double hi, lo, e_hi, e_lo;
    if (!PyArg_ParseTuple(args, "dd", &hi, &lo))
        return NULL;
    exp_dd(hi, lo, &e_hi, &e_lo);
    return Py_BuildValue("dd", e_hi, e_lo);
}

PyDoc_STRVAR(exp_doc, "exp(x, out, coarse=False)\n--\n\n"
                      "out = exp(x) by the engine's vectorised exp (exp_block) on float64 arrays\n"
                      "of one size: relative error below 1.04 * 2**-53 in the normal range;\n"
                      "``coarse``: the coarse path's exp (x <= 0: 2**-41.5, 0 below -708).");

static PyObject *py_exp(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *xo, *out_o;
    int coarse = 0;
    if (!PyArg_ParseTuple(args, "OO|p", &xo, &out_o, &coarse))
        return NULL;
    Py_buffer xb, ob;
    PyObject *result = NULL;
    if (get(xo, &xb, 0, "x") < 0)
        return NULL;
    if (get(out_o, &ob, 1, "out") < 0) {
        PyBuffer_Release(&xb);
        return NULL;
    }
    if (float_kind(&xb) != 64 || float_kind(&ob) != 64 || xb.len != ob.len)
        PyErr_SetString(PyExc_TypeError, "x, out: expected float64 arrays of one size");
    else {
        Py_BEGIN_ALLOW_THREADS if (coarse) exp_coarse_block((const double *)xb.buf,
                                                            (double *)ob.buf, xb.len / 8);
        else exp_block((const double *)xb.buf, (double *)ob.buf, xb.len / 8);
        Py_END_ALLOW_THREADS result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&xb);
    PyBuffer_Release(&ob);
    return result;
}

PyDoc_STRVAR(shift_doc, "shift(x, m, beta, hi, lo)\n--\n\n"
                        "hi + lo = beta (x - m) by the engine's vectorised exact shift (the\n"
                        "blocks of the row kernels), x float32/float64, hi and lo float64.");

static PyObject *py_shift(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *xo, *hi_o, *lo_o;
    double m, beta;
    if (!PyArg_ParseTuple(args, "OddOO", &xo, &m, &beta, &hi_o, &lo_o))
        return NULL;
    Py_buffer xb, hb, lb;
    PyObject *result = NULL;
    if (get(xo, &xb, 0, "x") < 0)
        return NULL;
    if (get(hi_o, &hb, 1, "hi") < 0) {
        PyBuffer_Release(&xb);
        return NULL;
    }
    if (get(lo_o, &lb, 1, "lo") < 0) {
        PyBuffer_Release(&xb);
        PyBuffer_Release(&hb);
        return NULL;
    }
    Py_ssize_t n = float_kind(&xb) ? xb.len / xb.itemsize : 0;
    if (!float_kind(&xb) || float_kind(&hb) != 64 || float_kind(&lb) != 64 || hb.len != n * 8 ||
        lb.len != n * 8)
        PyErr_SetString(PyExc_TypeError, "x, hi, lo: expected float arrays of one size");
    else {
        Row r = {(const char *)xb.buf, float_kind(&xb) == 32, m, 0, beta, beta != 1.0};
        for (Py_ssize_t j0 = 0; j0 < n; j0 += BLOCK)
            shift_block(&r, j0, n - j0 < BLOCK ? n - j0 : BLOCK, (double *)hb.buf + j0,
                        (double *)lb.buf + j0);
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&xb);
    PyBuffer_Release(&hb);
    PyBuffer_Release(&lb);
    return result;
}

PyDoc_STRVAR(set_segments_doc, "set_segments(long_row, seg)\n--\n\n"
                               "Cut rows longer than ``long_row`` into segments of ``seg`` columns;\n"
                               "returns the previous pair (65536, 16384 by default).");

static PyObject *py_set_segments(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t new_long, new_seg;
    if (!PyArg_ParseTuple(args, "nn", &new_long, &new_seg))
        return NULL;
    if (new_long < 0 || new_seg < 1) {
        PyErr_SetString(PyExc_ValueError, "expected long_row >= 0 and seg >= 1");
        return NULL;
    }
    PyObject *old = Py_BuildValue("nn", long_row, seg);
    long_row = new_long;
    seg = new_seg;
    return old;
}

/* numpy.float64 (set by set_float64), whose instances are laid out as Python floats. */
static PyTypeObject *float64_type = NULL;

/* v as a numpy.float64 (allocated as numpy allocates its scalars), or as a float. */
static PyObject *boxed(double v)
{
    if (float64_type == NULL)
        return PyFloat_FromDouble(v);
    PyObject *o = float64_type->tp_alloc(float64_type, 0);
    if (o != NULL)
        ((PyFloatObject *)o)->ob_fval = v;
    return o;
}

PyDoc_STRVAR(set_float64_doc, "set_float64(t)\n--\n\n"
                              "Box the elementwise kernels' results of a Python float as ``t``\n"
                              "(numpy.float64: a subclass of float of float's layout).");

static PyObject *py_set_float64(PyObject *self, PyObject *t)
{
    (void)self;
    if (!PyType_Check(t) || !PyType_IsSubtype((PyTypeObject *)t, &PyFloat_Type) ||
        ((PyTypeObject *)t)->tp_basicsize != sizeof(PyFloatObject)) {
        PyErr_SetString(PyExc_TypeError, "t: expected a subclass of float of float's layout");
        return NULL;
    }
    Py_XSETREF(float64_type, (PyTypeObject *)Py_NewRef(t));
    Py_RETURN_NONE;
}

/* kernel(x) -> numpy.float64 for a Python float x; kernel(x, out, threads) for a
   C-contiguous float32/float64 buffer x and a writable one out of its dtype and size (x
   itself allowed). */
static PyObject *ew_call(int kind, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 1 && PyFloat_Check(args[0]))
        return boxed(ew_one(kind, PyFloat_AS_DOUBLE(args[0])));
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "expected (x: float) or (x, out, threads)");
        return NULL;
    }
    long threads = PyLong_AsLong(args[2]);
    if (threads == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer xb, ob;
    if (get(args[0], &xb, 0, "x") < 0)
        return NULL;
    if (get(args[1], &ob, 1, "out") < 0) {
        PyBuffer_Release(&xb);
        return NULL;
    }
    PyObject *result = NULL;
    int bits = float_kind(&xb);
    if (!bits || float_kind(&ob) != bits || ob.len != xb.len)
        PyErr_SetString(PyExc_TypeError,
                        "x, out: expected float32 or float64 arrays of one dtype and size");
    else {
        EwJob J = {kind, bits == 32, (const char *)xb.buf, (char *)ob.buf};
        Py_ssize_t n = xb.len / xb.itemsize;
        int t = threads < 1 ? 1 : (threads > MAX_THREADS ? MAX_THREADS : (int)threads);
        if (n >= EW_NOGIL || t > 1) {
            Py_BEGIN_ALLOW_THREADS parallel(ew_range, &J, n, t);
            Py_END_ALLOW_THREADS
        }
        else
            ew_range(&J, 0, n);
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&xb);
    PyBuffer_Release(&ob);
    return result;
}

#define EW_WRAPPER(NAME, KIND, FORMULA)                                                      \
    PyDoc_STRVAR(NAME##_doc, #NAME "(x, out=None, threads=1)\n--\n\n" FORMULA                \
                             ", of a Python float (returned) or of a float32/float64\n"      \
                             "buffer ``x`` into ``out`` on ``threads`` threads, GIL "        \
                             "released.");                                                   \
    static PyObject *py_##NAME(PyObject *self, PyObject *const *args, Py_ssize_t nargs)     \
    {                                                                                        \
        (void)self;                                                                          \
        return ew_call(KIND, args, nargs);                                                   \
    }

EW_WRAPPER(sigmoid, EW_SIGMOID, "1 / (1 + exp(-x))")
EW_WRAPPER(log_sigmoid, EW_LOG_SIGMOID, "-log(1 + exp(-x))")
EW_WRAPPER(softplus, EW_SOFTPLUS, "log(1 + exp(x))")
EW_WRAPPER(logit, EW_LOGIT, "log(x / (1 - x))")
EW_WRAPPER(log1mexp, EW_LOG1MEXP, "log(1 - exp(x))")

#undef EW_WRAPPER

PyDoc_STRVAR(weighted_logsumexp_doc,
             "weighted_logsumexp(a, b, value, sign, threads)\n--\n\n"
             "log|sum_j b_j exp(a_j)| and its sign along the rows of the C-contiguous float64\n"
             "matrices ``a``, ``b`` (one shape) into ``value`` and ``sign`` (float64, one per\n"
             "row); terms with ``b_j = 0`` are left out. The GIL is released.");

static PyObject *py_weighted_logsumexp(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "expected (a, b, value, sign, threads)");
        return NULL;
    }
    long threads = PyLong_AsLong(args[4]);
    if (threads == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer buf[4];
    static const char *names[4] = {"a", "b", "value", "sign"};
    int held = 0;
    PyObject *result = NULL;
    for (; held < 4; held++)
        if (get(args[held], &buf[held], held >= 2, names[held]) < 0)
            goto done;
    if (buf[0].ndim != 2 || float_kind(&buf[0]) != 64 || float_kind(&buf[1]) != 64 ||
        buf[1].ndim != 2 || buf[1].shape[0] != buf[0].shape[0] ||
        buf[1].shape[1] != buf[0].shape[1] || float_kind(&buf[2]) != 64 ||
        float_kind(&buf[3]) != 64 || buf[2].len != buf[0].shape[0] * 8 ||
        buf[3].len != buf[0].shape[0] * 8) {
        PyErr_SetString(PyExc_TypeError, "a, b, value, sign: expected float64 matrices of one "
                                         "shape and float64 arrays of one entry per row");
        goto done;
    }
    WlseJob J = {(const double *)buf[0].buf, (const double *)buf[1].buf, (double *)buf[2].buf,
                 (double *)buf[3].buf, buf[0].shape[1]};
    Py_ssize_t rows = buf[0].shape[0];
    int t = (double)rows * (double)J.K >= PARALLEL_ELEMENTS
                ? (threads < 1 ? 1 : (threads > MAX_THREADS ? MAX_THREADS : (int)threads))
                : 1;
    Py_BEGIN_ALLOW_THREADS parallel(wlse_range, &J, rows, t);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    for (int i = 0; i < held; i++)
        PyBuffer_Release(&buf[i]);
    return result;
}

PyDoc_STRVAR(soft_cross_entropy_doc,
             "soft_cross_entropy(z, q, beta, out, threads)\n--\n\n"
             "-sum_k q_k log softmax(beta z)_k along the rows of the C-contiguous float64\n"
             "matrices ``z``, ``q`` (one shape, K >= 1) into ``out`` (float64, one per row), with\n"
             "``beta`` (float64, finite and > 0, one per row). The GIL is released.");

static PyObject *py_soft_cross_entropy(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "expected (z, q, beta, out, threads)");
        return NULL;
    }
    long threads = PyLong_AsLong(args[4]);
    if (threads == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer buf[4];
    static const char *names[4] = {"z", "q", "beta", "out"};
    int held = 0;
    PyObject *result = NULL;
    for (; held < 4; held++)
        if (get(args[held], &buf[held], held == 3, names[held]) < 0)
            goto done;
    Py_ssize_t rows = buf[0].ndim == 2 ? buf[0].shape[0] : 0;
    if (buf[0].ndim != 2 || buf[1].ndim != 2 || float_kind(&buf[0]) != 64 ||
        float_kind(&buf[1]) != 64 || buf[1].shape[0] != rows ||
        buf[1].shape[1] != buf[0].shape[1] || buf[0].shape[1] < 1 ||
        float_kind(&buf[2]) != 64 || float_kind(&buf[3]) != 64 || buf[2].len != rows * 8 ||
        buf[3].len != rows * 8) {
        PyErr_SetString(PyExc_TypeError, "z, q, beta, out: expected float64 matrices of one "
                                         "shape (K >= 1) and float64 arrays of one entry per row");
        goto done;
    }
    SoftCEJob J = {(const double *)buf[0].buf, (const double *)buf[1].buf,
                   (const double *)buf[2].buf, (double *)buf[3].buf, buf[0].shape[1]};
    int t = (double)rows * (double)J.K >= PARALLEL_ELEMENTS
                ? (threads < 1 ? 1 : (threads > MAX_THREADS ? MAX_THREADS : (int)threads))
                : 1;
    Py_BEGIN_ALLOW_THREADS parallel(soft_ce_range, &J, rows, t);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    for (int i = 0; i < held; i++)
        PyBuffer_Release(&buf[i]);
    return result;
}

#define EW_METHOD(NAME) {#NAME, (PyCFunction)(void (*)(void))py_##NAME, METH_FASTCALL, NAME##_doc}

static PyMethodDef methods[] = {
    {"set_segments", py_set_segments, METH_VARARGS, set_segments_doc},
    {"rows", py_rows, METH_VARARGS, rows_doc},
    {"kl", py_kl, METH_VARARGS, kl_doc},
    {"two_sum", py_two_sum, METH_VARARGS, two_sum_doc},
    {"two_prod", py_two_prod, METH_VARARGS, two_prod_doc},
    {"exp_dd", py_exp_dd, METH_VARARGS, exp_dd_doc},
    {"set_float64", py_set_float64, METH_O, set_float64_doc},
    EW_METHOD(sigmoid),
    EW_METHOD(log_sigmoid),
    EW_METHOD(softplus),
    EW_METHOD(logit),
    EW_METHOD(log1mexp),
    {"weighted_logsumexp", (PyCFunction)(void (*)(void))py_weighted_logsumexp, METH_FASTCALL,
     weighted_logsumexp_doc},
    {"soft_cross_entropy", (PyCFunction)(void (*)(void))py_soft_cross_entropy, METH_FASTCALL,
     soft_cross_entropy_doc},
    {"exp", py_exp, METH_VARARGS, exp_doc},
    {"shift", py_shift, METH_VARARGS, shift_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_engine",
    "The compiled row engine of expfam.special (C, GIL released).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__engine(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    return m;
}
