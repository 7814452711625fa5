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

/* The helpers of the hot functions are inlined into them, so that they are compiled for each
   target (a helper left out of line is compiled for the baseline only). */
#if defined(__GNUC__)
#define HOT_INLINE static inline __attribute__((always_inline))
#else
#define HOT_INLINE static inline
#endif

/* horner unrolled, so that the loops calling it vectorise (the same operations). */
HOT_INLINE double horner_unrolled(double x, const double *c, int n)
{
    double acc = c[n - 1];
#pragma GCC unroll 24
    for (int i = n - 2; i >= 0; i--) {
        acc *= x;
        acc += c[i];
    }
    return acc;
}

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
HOT_INLINE void lanes_add_corrected(double *hi, double *lo, const double *e, const double *c,
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
HOT_INLINE void lanes_add_two(double *hi, double *lo, const double *a, const double *b,
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
HOT_INLINE void lanes_max(double *m, int64_t *k, int64_t *nan, const double *v, Py_ssize_t n,
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
HOT_INLINE const double *row_block(const Row *r, Py_ssize_t j0, Py_ssize_t n, double *buf)
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
HOT_INLINE void max_range(const Row *r, Py_ssize_t c0, Py_ssize_t c1, MaxPart *o)
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
    int used = c1 - c0 < LANES ? (int)(c1 - c0) : LANES; /* the others: -inf, no NaN */
    for (int l = 1; l < used; l++) {
        int take = (lane_m[l] > m) | ((lane_m[l] == m) & (lane_k[l] < k)); /* no branch */
        m = take ? lane_m[l] : m;
        k = take ? lane_k[l] : k;
        nan |= lane_nan[l];
    }
    o->m = m;
    o->k = k;
    o->nan = (int)nan;
}

HOT static void seg_max(const Row *r, Py_ssize_t c0, Py_ssize_t c1, MaxPart *o)
{
    max_range(r, c0, c1, o);
}

/* hi + lo = beta (v - m) for the n entries of row r from column j0 (as shift() does, which
   takes the entries the vector loop cannot: v - m past the float range, or a product past
   Dekker's range). */
HOT_INLINE void shift_block(const Row *r, Py_ssize_t j0, Py_ssize_t n, double *hi, double *lo)
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

HOT_INLINE DD merge_lanes(const double *hi, const double *lo)
{
    DD t = {hi[0], lo[0]};
    for (int l = 1; l < LANES; l++)
        acc_merge(&t, (DD){hi[l], lo[l]});
    return t;
}

/* merge_lanes of the lanes of a segment of n entries: the first min(n, LANES), those that
   took an entry. The others hold (+0, +0), whose merge changes no bit of a sum of
   non-negative terms (TwoSum of s >= +0 and +0 is s exactly, with error +0). */
static inline DD merge_used_lanes(const double *hi, const double *lo, Py_ssize_t n)
{
    int used = n < LANES ? (int)n : LANES;
    DD t = {hi[0], lo[0]};
    for (int l = 1; l < used; l++)
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
    return merge_used_lanes(lane_hi, lane_lo, c1 - c0);
}

/* t = sum_{j != k} exp(hi_j + lo_j) 2^up with exp in double-double, and (want_s)
   S = sum_{j != k} exp(d_j) (-d_j) 2^up, the products formed before the scaling so that
   subnormal terms keep their digits; LANES accumulators each. */
/* The terms of seg_dd on n shifted entries hi + lo: a + b = exp(hi + lo) 2^up, and (want_s)
   c + d = exp(hi + lo) (-hi - lo) 2^up (inlined into the hot functions, so that it is
   compiled for their targets). */
HOT_INLINE void dd_terms(const double *hi, const double *lo, Py_ssize_t n, int up, int want_s,
                            double *a, double *b, double *c, double *d)
{
    double h[BLOCK], l[BLOCK], m_hi[BLOCK], m_lo[BLOCK];
    int64_t e[BLOCK];
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
}

HOT static void seg_dd(const Row *r, Py_ssize_t c0, Py_ssize_t c1, int up, int want_s, DD *t,
                       DD *s)
{
    double t_hi[LANES] = {0.0}, t_lo[LANES] = {0.0}, s_hi[LANES] = {0.0}, s_lo[LANES] = {0.0};
    double hi[BLOCK], lo[BLOCK], a[BLOCK], b[BLOCK], c[BLOCK], d[BLOCK];
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        shift_block(r, j0, n, hi, lo);
        dd_terms(hi, lo, n, up, want_s, a, b, c, d);
        if (r->k >= j0 && r->k < j0 + n)
            a[r->k - j0] = b[r->k - j0] = c[r->k - j0] = d[r->k - j0] = 0.0;
        /* both parts through TwoSum: a plain sum of the low parts, all of one sign when the
           terms are alike, would lose ~n u of them */
        lanes_add_two(t_hi, t_lo, a, b, n);
        if (want_s)
            lanes_add_two(s_hi, s_lo, c, d, n);
    }
    *t = merge_used_lanes(t_hi, t_lo, c1 - c0);
    if (want_s)
        *s = merge_used_lanes(s_hi, s_lo, c1 - c0);
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
#define KAPPA_F32 0x1p16 /* the float64 pass's float32 outputs (log_partition) */


/* y[i] = exp_coarse(x[i]) for i < n: LANES at a time (the table in two vectors, looked up
   by a shuffle), then the rest one by one, by the same operations. */
HOT_INLINE void exp_coarse_lanes(const double *restrict x, double *restrict y, Py_ssize_t n)
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

/* acc (LANES plain sums) += a_i, entry i in lane i % LANES (the coarse path, KL's float32
   way). */
HOT_INLINE void lanes_add_plain(double *acc, const double *a, Py_ssize_t n)
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
HOT_INLINE void shift_block_coarse(const Row *r, Py_ssize_t j0, Py_ssize_t n, double *d)
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

enum { PH_MAX, PH_FAST, PH_DD, PH_WRITE, PH_KL_FLAGS, PH_KL_LOGZ, PH_KL_SUMS, PH_KL_LARGE,
       PH_KL32_WEIGHTS, PH_KL32_SUMS, PH_COARSE };

/* The sums of KL's float32 way (see kl_row32), per segment. */
typedef struct {
    DD w, wa;           /* PH_KL32_WEIGHTS: sum w_j, sum w_j a_j (w_j = e^{z_p,j - m}) */
    DD sum[6];          /* PH_KL32_SUMS: sum w_j times g, x, |x|, |a| + |x| and the two
                           products of the error bound (seg_kl32_sums) */
    int reject;         /* d_j inexact, z_p,j - m < -700 or x_j > 500 on the support */
} KL32Part;

typedef struct {
    MaxPart max;
    int bad;      /* NaN, +inf, or q = 0 on the support of p: the limits (Python) */
    int off;      /* some p_j = 0: -log q(S) is added (Python) */
    double d_max; /* the spread of d = z_p - z_q on the support */
    double d_min;
    int large; /* some p_j e^{x_j} > e^700 */
    KL32Part f32;
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
    double ref; /* KL's float32 way: the reference of z_p */
    double offset; /* the output is offset + log Z (logsumexp: m; cross_entropy: -d_y) */
    double offset_lo; /* cross_entropy: -d_y's low part */
    int dd_first;  /* the previous row of this job took the dd pass (see log_partition) */
    double *kl_w; /* KL's float32 way: the weights w_j, from the flags pass to the sums (rows of
                     one segment), or NULL */
    struct KLBlock *kl_cache; /* KL: the exp of the row's blocks, from the pass of log Z to
                                 the sums (rows of one segment, up to KL_CACHE_ROW), or NULL */
} SegJob;

/* The outputs of softmax and log_softmax on columns [c0, c1), by blocks. */
HOT_INLINE void write_range(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1)
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

HOT static void seg_write(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1)
{
    write_range(J, c0, c1);
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
HOT_INLINE void lanes_add_one(double *hi, double *lo, const double *a, Py_ssize_t n)
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
    /* all-ones masks and bitwise selects, no conditional: gcc vectorises the loop */
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t bp = (int64_t)to_bits(vp[i]), bq = (int64_t)to_bits(vq[i]);
        int64_t p_off = -(int64_t)(bp == NEG_INF_BITS), q_off = -(int64_t)(bq == NEG_INF_BITS);
        int64_t p_bad = -(int64_t)((bp & ABS_BITS) >= INF_BITS);
        int64_t q_bad = -(int64_t)((bq & ABS_BITS) >= INF_BITS);
        bad |= (p_bad & ~p_off) | (q_bad & ~q_off) | (q_off & ~p_off);
        off |= p_off;
        int64_t k = order_key(vp[i] - vq[i]);
        int64_t k_hi = (k & ~p_off) | (INT64_MIN & p_off), k_lo = (k & ~p_off) | (INT64_MAX & p_off);
        d_max = k_hi > d_max ? k_hi : d_max;
        d_min = k_lo < d_min ? k_lo : d_min;
    }
    f->bad = bad;
    f->off = off;
    f->d_max = d_max;
    f->d_min = d_min;
}

/* The flags of a segment into *o from its lanes' maxima and its KLFlags (its sums left). */
static inline void kl_part(const double *lane_m, const int64_t *lane_k, const int64_t *lane_nan,
                           const KLFlags *f, KLPart *o)
{
    MaxPart max = {lane_m[0], lane_k[0], 0};
    int64_t nan = lane_nan[0];
    for (int l = 1; l < LANES; l++) {
        int take = lane_m[l] > max.m || (lane_m[l] == max.m && lane_k[l] < max.k);
        max.m = take ? lane_m[l] : max.m;
        max.k = take ? lane_k[l] : max.k;
        nan |= lane_nan[l];
    }
    max.nan = nan != 0;
    o->max = max;
    o->bad = f->bad != 0;
    o->off = f->off != 0;
    o->d_max = -INFINITY;
    o->d_min = INFINITY;
    o->large = 0;
    if (f->d_max != INT64_MIN) { /* some class on the support */
        o->d_max = from_order_key(f->d_max);
        o->d_min = from_order_key(f->d_min);
    }
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
    kl_part(lane_m, lane_k, lane_nan, &f, o);
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
    double lp_hi[BLOCK + 8], lp_lo[BLOCK + 8], m_hi[BLOCK + 8], m_lo[BLOCK + 8], p[BLOCK + 8], a[BLOCK + 8], low[BLOCK + 8];
    int64_t e[BLOCK + 8];
    uint64_t on[BLOCK + 8];
} KLBlock;

/* Rows up to this length keep their exp from the pass of log Z to the sums (72 bytes a class,
   576 KiB a thread at most, in the L2 cache), instead of computing them again: the same
   values either way. */
#define KL_CACHE_ROW 8192

/* The first half of KL's terms on the n classes of a block from column j0: the shift
   hi + lo = z_p,j - m (exact) into lp_hi, lp_lo, and e^{hi + lo} = (m_hi + m_lo) 2^e
   (exp_parts, relative error below 2^-58). Inlined into the hot functions, so that it is
   compiled for their targets. */
HOT_INLINE void kl_exp_parts(KLBlock *B, Py_ssize_t n)
{
    double h[BLOCK], l[BLOCK];
    for (Py_ssize_t i = 0; i < n; i++) {
        h[i] = clamp_hi(B->lp_hi[i]);
        l[i] = clamp_lo(B->lp_lo[i]);
    }
    for (Py_ssize_t i = 0; i < n; i++)
        exp_parts_clamped(h[i], l[i], &B->m_hi[i], &B->m_lo[i], &B->e[i]);
}

HOT_INLINE void kl_block_exp(const SegJob *J, Py_ssize_t j0, Py_ssize_t n, KLBlock *B)
{
    shift_block(&J->r, j0, n, B->lp_hi, B->lp_lo);
    kl_exp_parts(B, n);
}

/* The values of a row that KL's terms take: of one row (step 0, the value at [0]) or of the
   rows of a group (step 1, repeated over each row's entries). */
typedef struct {
    const double *restrict mu, *restrict l_hi, *restrict l_lo, *restrict r_hi, *restrict r_lo,
        *restrict centre;
    int step;
} KLRowValues;

/* The second half, in place: log p_j = (hi + lo) - log Z, p_j = e^{hi + lo} / Z as
   (m_hi + m_lo) 2^e (normalized; 1 / Z = r_hi + r_lo), p = m_hi 2^e (rounded once, so that
   probabilities below the normal range keep their digits until then), a + low = mu - d_j
   exactly, and on. */
HOT_INLINE void kl_finish_terms(KLBlock *restrict B, const double *restrict vp,
                                   const double *restrict vq, const KLRowValues *R, Py_ssize_t n)
{
    const int st = R->step;
    for (Py_ssize_t i = 0; i < n; i++) {
        double s, err, d_hi, d_lo, a_err, r_hi = R->r_hi[i * st], r_lo = R->r_lo[i * st];
        two_sum(B->lp_hi[i], -R->l_hi[i * st], &s, &err);
        double rest = (err + B->lp_lo[i]) - R->l_lo[i * st];
        B->lp_hi[i] = s;
        B->lp_lo[i] = select_d(mask_if(fabs(s) > DBL_MAX), 0.0, rest);
        /* m_hi < 2 and r_hi <= 1: Dekker's range */
        double u_hi = B->m_hi[i] * r_hi;
        double u_lo = (dekker(B->m_hi[i], r_hi, u_hi) + B->m_hi[i] * r_lo) + B->m_lo[i] * r_hi;
        two_sum(u_hi, u_lo, &B->m_hi[i], &B->m_lo[i]);
        B->p[i] = ldexp2(B->m_hi[i], B->e[i]);
        two_sum(vp[i], -vq[i], &d_hi, &d_lo);
        two_sum(R->mu[i * st], -d_hi, &B->a[i], &a_err);
        B->low[i] = a_err - d_lo;
        B->on[i] = mask_if(vp[i] > -INFINITY);
    }
}

/* The values of row J (step 0). */
static inline KLRowValues kl_row_values(const SegJob *J)
{
    return (KLRowValues){&J->mu, &J->l_hi, &J->l_lo, &J->r_hi, &J->r_lo, &J->centre, 0};
}

HOT_INLINE void kl_block_finish(const SegJob *J, Py_ssize_t j0, Py_ssize_t n, KLBlock *B)
{
    double bufp[BLOCK], bufq[BLOCK];
    const double *vp = row_block(&J->r, j0, n, bufp), *vq = row_block(&J->q, j0, n, bufq);
    KLRowValues R = kl_row_values(J);
    kl_finish_terms(B, vp, vq, &R, n);
}

HOT_INLINE void kl_block(const SegJob *J, Py_ssize_t j0, Py_ssize_t n, KLBlock *B)
{
    kl_block_exp(J, j0, n, B);
    kl_block_finish(J, j0, n, B);
}

/* PH_KL_LOGZ: t = sum_{j != k} e^{z_p,j - m} in double-double (the exp of kl_block_exp,
   kept in the cache where there is one) and the centre's sum, sum_j e^{z_p,j - m} (mu - d_j)
   over the support. The centre must be within a few ULP of the mean of mu - d (the exact
   value of its low part included): the residue r = E_p[x] it leaves enters KL through
   cancellation, about r^2 against KL. */
/* The terms of PH_KL_LOGZ on a block whose exp kl_exp_parts took: a + b = e^{z_p,j - m}, and
   w = e^{z_p,j - m} (mu - d_j) on the support. */
HOT_INLINE void kl_logz_terms(const KLBlock *restrict B, const double *restrict vp,
                                 const double *restrict vq, const KLRowValues *R, Py_ssize_t n,
                                 double *restrict a, double *restrict b, double *restrict w)
{
    const int st = R->step;
    for (Py_ssize_t i = 0; i < n; i++) {
        double d_hi, d_lo, c_a, c_err;
        a[i] = ldexp2(B->m_hi[i], B->e[i]);
        b[i] = ldexp2(B->m_lo[i], B->e[i]);
        two_sum(vp[i], -vq[i], &d_hi, &d_lo);
        two_sum(R->mu[i * st], -d_hi, &c_a, &c_err);
        double centred = c_a + (c_err - d_lo); /* mu - d to a few ULP, as in the sums */
        w[i] = select_d(mask_if(vp[i] > -INFINITY), (a[i] + b[i]) * centred, 0.0);
    }
}

HOT static void seg_kl_logz(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1, DD *t, DD *centre)
{
    double t_hi[LANES] = {0.0}, t_lo[LANES] = {0.0}, c_hi[LANES] = {0.0}, c_lo[LANES] = {0.0};
    double a[BLOCK], b[BLOCK], w[BLOCK], bufp[BLOCK], bufq[BLOCK];
    KLBlock local;
    KLRowValues R = kl_row_values(J);
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        KLBlock *restrict B = J->kl_cache ? &J->kl_cache[(j0 - c0) / BLOCK] : &local;
        kl_block_exp(J, j0, n, B);
        const double *vp = row_block(&J->r, j0, n, bufp), *vq = row_block(&J->q, j0, n, bufq);
        kl_logz_terms(B, vp, vq, &R, n, a, b, w);
        if (J->r.k >= j0 && J->r.k < j0 + n)
            a[J->r.k - j0] = b[J->r.k - j0] = 0.0;
        lanes_add_two(t_hi, t_lo, a, b, n);
        lanes_add_one(c_hi, c_lo, w, n);
    }
    *t = merge_lanes(t_hi, t_lo);
    *centre = merge_lanes(c_hi, c_lo);
}

/* The terms of PH_KL_SUMS on a block that kl_finish_terms finished: p x (rh + rl) and
   p g(x) (ph + pl) over the support, and huge: all ones where p e^x passes e^700. */
HOT_INLINE void kl_sums_terms(const KLBlock *restrict B, const KLRowValues *R, Py_ssize_t n,
                                 double *restrict rh, double *restrict rl, double *restrict ph,
                                 double *restrict pl, uint64_t *restrict huge)
{
    double x[BLOCK + 8], x_lo[BLOCK + 8], eh[BLOCK + 8], el[BLOCK + 8], gh[BLOCK + 8], gl[BLOCK + 8];
    int64_t ne[BLOCK + 8];
    const int st = R->step;
    uint64_t slow = 0, outside = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        double s_hi, s_err;
        two_sum(B->a[i], B->low[i] - R->centre[i * st], &x[i], &x_lo[i]);
        double px = B->p[i] * x[i], px_lo = B->p[i] * x_lo[i];
        rh[i] = select_d(B->on[i], px, 0.0);
        rl[i] = select_d(B->on[i], px_lo, 0.0);
        /* the argument of exp: log p + x above 600, else x */
        two_sum(B->lp_hi[i], x[i], &s_hi, &s_err);
        double s_lo = (s_err + B->lp_lo[i]) + x_lo[i];
        uint64_t big = mask_if(x[i] > 600.0);
        eh[i] = select_d(big, s_hi, x[i]);
        el[i] = select_d(big, s_lo, 0.0);
        double log_pe = (B->lp_hi[i] + B->lp_lo[i]) + x[i];
        huge[i] = B->on[i] & mask_if(log_pe > 700.0);
        outside |= B->on[i] & mask_if(!(fabs(x[i]) <= 1.0));
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        eh[i] = clamp_hi(eh[i]);
        el[i] = clamp_lo(el[i]);
    }
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
        double poly = horner_unrolled(xs, G_TAIL, 18);
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
    double rh[BLOCK], rl[BLOCK], ph[BLOCK], pl[BLOCK];
    uint64_t big[BLOCK], big_any = 0;
    KLBlock local;
    KLRowValues R = kl_row_values(J);
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        KLBlock *restrict B = &local;
        if (J->kl_cache) { /* the exp kept by the pass of log Z */
            B = &J->kl_cache[(j0 - c0) / BLOCK];
            kl_block_finish(J, j0, n, B);
        }
        else
            kl_block(J, j0, n, B);
        kl_sums_terms(B, &R, n, rh, rl, ph, pl, big);
        for (Py_ssize_t i = 0; i < n; i++)
            big_any |= big[i];
        lanes_add_two(r_hi, r_lo, rh, rl, n);
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

/* ------------------------------------------------------------ KL of float32 rows */

/* PH_KL32_WEIGHTS: the flags (as PH_KL_FLAGS) and, on the support, w_j = exp_fast(z_p,j - ref)
   and a_j = mu - d_j, d_j = z_p,j - z_q,j: sum w_j and sum w_j a_j; rejects the row where
   some d_j is inexact or some |z_p,j - ref| > 600 (see kl_row32). */
HOT static void seg_kl32_weights(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1, KLPart *o)
{
    double w_hi[LANES] = {0.0}, w_lo[LANES] = {0.0}, a_hi[LANES] = {0.0}, a_lo[LANES] = {0.0};
    double lane_m[LANES], bufp[BLOCK], bufq[BLOCK], w[BLOCK], wa[BLOCK];
    int64_t lane_k[LANES], lane_nan[LANES];
    KLFlags flags = {0, 0, INT64_MIN, INT64_MAX};
    for (int l = 0; l < LANES; l++) {
        lane_m[l] = -INFINITY;
        lane_k[l] = c0;
        lane_nan[l] = 0;
    }
    const double ref = J->ref, mu = J->mu;
    uint64_t reject = 0;
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        const double *vp = row_block(&J->r, j0, n, bufp), *vq = row_block(&J->q, j0, n, bufq);
        lanes_max(lane_m, lane_k, lane_nan, vp, n, j0);
        kl_flags(&flags, vp, vq, n);
        for (Py_ssize_t i = 0; i < n; i++) {
            double s = vp[i] - ref, e = exp_fast(s);
            double d = vp[i] - vq[i], bb = d - vp[i];
            double err = (vp[i] - (d - bb)) + (-vq[i] - bb);
            uint64_t on = mask_if(vp[i] > -INFINITY);
            reject |= on & (mask_if(err != 0.0) | mask_if(!(fabs(s) <= 600.0)));
            w[i] = select_d(on, e, 0.0);
            wa[i] = select_d(on, e * (mu - d), 0.0);
        }
        if (J->kl_w)
            memcpy(J->kl_w + (j0 - c0), w, (size_t)n * sizeof(double));
        lanes_add_one(w_hi, w_lo, w, n);
        lanes_add_one(a_hi, a_lo, wa, n);
    }
    kl_part(lane_m, lane_k, lane_nan, &flags, o);
    o->f32.w = merge_lanes(w_hi, w_lo);
    o->f32.wa = merge_lanes(a_hi, a_lo);
    o->f32.reject = reject != 0;
}

/* PH_KL32_SUMS: x_j = a_j - c on the support and g(x_j) = e^x - 1 - x, by the series
   x^2 (1/2 + x P(x)) (12 terms) for |x| <= 1/2, else (exp_fast(x) - 1) - x; the sums of w_j
   times g, x, |x|, |a| + |x|, (g + |x|)(|a| + |x|) and (1 + g + |x|)(|a| + |x|)^2. Rejects
   the row where some x_j > 500. */
HOT static void seg_kl32_sums(const SegJob *J, Py_ssize_t c0, Py_ssize_t c1, KL32Part *o)
{
    double hi[6][LANES] = {{0.0}}, lo[6][LANES] = {{0.0}};
    double bufp[BLOCK], bufq[BLOCK], wbuf[BLOCK], v[6][BLOCK];
    const double ref = J->ref, mu = J->mu, c = J->centre;
    uint64_t reject = 0;
    for (Py_ssize_t j0 = c0; j0 < c1; j0 += BLOCK) {
        Py_ssize_t n = c1 - j0 < BLOCK ? c1 - j0 : BLOCK;
        const double *vp = row_block(&J->r, j0, n, bufp), *vq = row_block(&J->q, j0, n, bufq);
        const double *w = J->kl_w ? J->kl_w + (j0 - c0) : wbuf; /* kept, or again */
        if (!J->kl_w)
            for (Py_ssize_t i = 0; i < n; i++)
                wbuf[i] = exp_fast(vp[i] - ref);
        for (Py_ssize_t i = 0; i < n; i++) {
            double e = w[i];
            double a = mu - (vp[i] - vq[i]), x = a - c;
            uint64_t on = mask_if(vp[i] > -INFINITY), series = mask_if(fabs(x) <= 0.5);
            reject |= on & mask_if(x > 500.0);
            double xs = select_d(series, x, 0.0);
            double poly = horner_unrolled(xs, G_TAIL, 12);
            double xe = select_d(series, 0.0, x);
            xe = select_d(mask_if(xe > 500.0), 500.0, xe);
            double g = select_d(series, (xs * xs) * (0.5 + xs * poly), (exp_fast(xe) - 1.0) - xe);
            double ax = fabs(a) + fabs(x), gx = g + fabs(x);
            v[0][i] = select_d(on, e * g, 0.0);
            v[1][i] = select_d(on, e * x, 0.0);
            v[2][i] = select_d(on, e * fabs(x), 0.0);
            v[3][i] = select_d(on, e * ax, 0.0);
            v[4][i] = select_d(on, e * (gx * ax), 0.0);
            v[5][i] = select_d(on, e * (((1.0 + gx) * ax) * ax), 0.0);
        }
        lanes_add_one(hi[0], lo[0], v[0], n);
        lanes_add_one(hi[1], lo[1], v[1], n);
        for (int k = 2; k < 6; k++) /* the bounds: plain sums */
            lanes_add_plain(hi[k], v[k], n);
    }
    for (int k = 0; k < 6; k++)
        o->sum[k] = merge_lanes(hi[k], lo[k]);
    o->reject = reject != 0;
}

static void seg_kl(SegJob *J, Py_ssize_t s, Py_ssize_t c0, Py_ssize_t c1)
{
    if (J->phase == PH_KL_FLAGS)
        seg_kl_flags(&J->r, &J->q, c0, c1, &J->kl[s]);
    else if (J->phase == PH_KL_LOGZ)
        seg_kl_logz(J, c0, c1, &J->t[s], &J->s[s]);
    else if (J->phase == PH_KL_SUMS)
        seg_kl_sums(J, c0, c1, &J->t[s], &J->s[s], &J->kl[s].large);
    else if (J->phase == PH_KL32_WEIGHTS)
        seg_kl32_weights(J, c0, c1, &J->kl[s]);
    else if (J->phase == PH_KL32_SUMS)
        seg_kl32_sums(J, c0, c1, &J->kl[s].f32);
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
    if ((J->K <= 10 && !J->out32) || J->dd_first) {
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
    if (J->out32 && kappa(J, t.hi) <= KAPPA_F32) {
        /* Float32 outputs need no double-double: the fast pass's t (each term within
           1.04 * 2^-53, compensated sum) moves the output offset + log1p(t) by
           1.04 kappa 2^-53 of itself, and libm's log1p (below 1 float64 ULP of log1p t) by
           log1p(t) / |output| = kappa (1 + t) log1p(t) / t <= 2 log(K) kappa (t >= 1; 2 kappa
           below) ULPs: within (1.04 + 2 log K) kappa 2^-53 + 2^-52 of the output before its
           rounding to float32, below 2^-31 for kappa <= KAPPA_F32 = 2^16 and K < 2^40
           (2^-47 off cancellation, kappa <= 1). Rows near cancellation (logsumexp's
           m + log1p t near 0) take the double-double sums below. */
        J->l_hi = log1p(t.hi);
        J->l_lo = t.lo / (1.0 + t.hi);
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

/* KL of a float32 row (bound: 2 float32 ULP) in float64 arithmetic, without double-double:
   two passes after the flags, with a bound on the error computed alongside; a row whose
   bound passes 2^-27 KL takes the accurate way (the rest of kl_row).

   With w_j = exp_fast(z_p,j - m), T = sum w_j, p_j = w_j / T, a_j = mu - d_j (mu = d_k), the
   centre c = sum w_j a_j / T and x_j = a_j - c on the support,
     KL = F = log S - r = log1p(G) - r G / (1 + G) + h(y),  y = r / (1 + G),
     S = sum p_j e^{x_j} = 1 + G + r,  G = sum p_j g(x_j),  r = sum p_j x_j,
   as in kl_row, for any c. First-order errors (u = 2^-53):
   - p: each w_j is within (1.04 + 700) u < 2^-43 of itself (exp_fast's bound, and the
     rounding of z_p,j - m, at most 700 u: rows with z_p,j - m < -700 are rejected); T and
     the divisions by it add a few u, common to all. dF/dp_j = (e^{x_j} - 1) / S - x_j
     = (g_j - x_j (G + r)) / S, so relative errors below 2^-42 move F by at most
     2^-42 (G + |G + r| A) / S, A = sum p |x|.
   - g: the series (|x| <= 1/2) is truncated after x^12 / 14! (the next term, against
     x^2 / 2, below 2^-52) and rounds a few u; (exp_fast(x) - 1) - x (|x| > 1/2) is within
     (1.04 e^x + |e^x - 1| + g) u <= 17 u g of g (the worst at x = 1/2). With the product
     w_j g_j and the compensated sum: 2^-47 G / S.
   - x: d_j is exact (rows where it is not are rejected), and a_j = fl(mu - d_j),
     x_j = fl(a_j - c) are within u (|a_j| + |x_j|) of mu - d_j - c (the value of c does not
     matter). dF/dx_j = p_j (e^{x_j} - S) / S and |e^x - S| <= g + |x| + |G + r|: at most
     u (W + |G + r| M) / S, W = sum p (g + |x|)(|a| + |x|), M = sum p (|a| + |x|). The second
     order (near p = q, where the first vanishes) is at most sum p e^x dx^2 / S
     <= 2^-106 Q / S, Q = sum p (1 + g + |x|)(|a| + |x|)^2.
   - r: the compensated sum, 2^-52 A, times |dF/dr| = |G + r| / S.
   - the finish: log1p, the products and the additions, within 2^-50 of the terms'
     magnitudes, and the series of h (|y| < 1e-4) within y^2 |h|.
   The row is done here where the sum of these bounds is at most 2^-27 KL (an eighth of a
   float32 ULP: with the rounding to float32, within 1 ULP), and G >= 2^-900 (products
   below the normal range lose digits) or every a_j and x_j is 0 (p = q on the support:
   KL = 0). Rows with x_j > 500 (e^x near overflow) on the support are rejected too.
   (tests/special/test_special_regressions.py holds rows on both sides of the decision.) */
static int kl_row32(SegJob *J, const Job *G, Py_ssize_t i, int threads, int off)
{
    KL32Part f = J->kl[0].f32;
    for (Py_ssize_t s = 1; s < J->nseg; s++) {
        acc_merge(&f.w, J->kl[s].f32.w);
        acc_merge(&f.wa, J->kl[s].f32.wa);
        f.reject |= J->kl[s].f32.reject;
    }
    if (f.reject)
        return 0;
    double T = f.w.hi + f.w.lo;
    J->centre = (f.wa.hi + f.wa.lo) / T;
    run_phase(J, PH_KL32_SUMS, threads);
    f = J->kl[0].f32;
    for (Py_ssize_t s = 1; s < J->nseg; s++) {
        for (int k = 0; k < 6; k++)
            acc_merge(&f.sum[k], J->kl[s].f32.sum[k]);
        f.reject |= J->kl[s].f32.reject;
    }
    double v[6];
    for (int k = 0; k < 6; k++)
        v[k] = (f.sum[k].hi + f.sum[k].lo) / T;
    double g = v[0], r = v[1], A = v[2], M = v[3], W = v[4], Q = v[5];
    double S = 1.0 + g + r, gr = fabs(g + r);
    double l = log1p(g), rg = r * g / (1.0 + g), y = r / (1.0 + g);
    int short_h = fabs(y) < 1e-4;
    double h = short_h ? y * y * (y / 3.0 - 0.5) : log1p(y) - y;
    double kl = (l - rg) + h;
    double bound = (0x1p-42 * (g + gr * A) + 0x1p-47 * g + 0x1p-53 * (W + gr * M) +
                    0x1p-52 * gr * A + 0x1p-106 * Q) / S +
                   0x1p-50 * (l + fabs(rg) + fabs(h)) + (short_h ? y * y * fabs(h) : 0.0);
    int equal = M == 0.0; /* every a_j and x_j is 0 */
    if (f.reject || !(equal || (g >= 0x1p-900 && bound <= 0x1p-27 * kl)))
        return 0;
    ((double *)G->out)[i] = equal ? 0.0 : kl;
    G->status[i] = off ? 2 : 0;
    return 1;
}

/* The reference of KL's float32 way: the first class of the support, ref = z_p,j and
   mu = d_j (0 where there is none, or it is not finite: the flags pass instead). */
static int kl32_reference(SegJob *J)
{
    Py_ssize_t j = 0;
    while (j < J->K && at(&J->r, j) == -INFINITY)
        j++;
    if (j == J->K || !isfinite(at(&J->r, j)) || !isfinite(at(&J->q, j)))
        return 0;
    J->ref = at(&J->r, j);
    J->mu = J->ref - at(&J->q, j); /* exact, or the row is rejected */
    return 1;
}

/* KL's stages of a row: kl_begin (the flags and the maximum of z_p, the rows it settles:
   the limits, left to Python, and the float32 way), kl_log_partition (log Z, 1 / Z and the
   centre from the sums of PH_KL_LOGZ) and kl_end (KL from the sums of PH_KL_SUMS). kl_row
   runs them with the passes on the row's segments; the groups of short rows (kl_group) run
   the passes on the group. */
static int kl_begin(SegJob *J, const Job *G, Py_ssize_t i, int threads, int *off)
{
    /* float32 rows: the flags pass sums the weights of the float32 way too */
    int way32 = J->r.x32 && kl32_reference(J);
    run_phase(J, way32 ? PH_KL32_WEIGHTS : PH_KL_FLAGS, threads);
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
        return 0;
    }
    J->r.m = f.max.m;
    J->r.k = f.max.k;
    if (way32 && kl_row32(J, G, i, threads, f.off))
        return 0;
    double d_lo;
    two_sum(at(&J->r, J->r.k), -at(&J->q, J->r.k), &J->mu, &d_lo);
    *off = f.off;
    return 1;
}

static void kl_log_partition(SegJob *J, DD t, DD centre)
{
    log1p_dd(t.hi, t.lo, &J->l_hi, &J->l_lo);
    double z_hi, z_err, zr, zr_err;
    two_sum(1.0, t.hi, &z_hi, &z_err);
    J->r_hi = 1.0 / z_hi;
    two_prod(J->r_hi, z_hi, &zr, &zr_err);
    J->r_lo = (((1.0 - zr) - zr_err) - J->r_hi * (z_err + t.lo)) / z_hi;
    J->centre = centre.hi * J->r_hi;
}

static void kl_end(SegJob *J, const Job *G, Py_ssize_t i, int threads, double r, DD g, int large,
                   int off)
{
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
    G->status[i] = off && !large ? 2 : 0; /* the large branch's log q is over all classes */
}

static void kl_row(SegJob *J, const Job *G, Py_ssize_t i, int threads)
{
    int off;
    if (!kl_begin(J, G, i, threads, &off))
        return;
    /* log Z = log1p(t), 1 / Z = r_hi + r_lo, and the centre, from one pass */
    run_phase(J, PH_KL_LOGZ, threads);
    kl_log_partition(J, combine(J->t, J->nseg), combine(J->s, J->nseg));
    run_phase(J, PH_KL_SUMS, threads);
    int large = 0;
    for (Py_ssize_t s = 0; s < J->nseg; s++)
        large |= J->kl[s].large;
    kl_end(J, G, i, threads, combine(J->t, J->nseg).hi, combine(J->s, J->nseg), large, off);
}

/* The stages of one row of G, on `threads` threads (its segments): row_begin (the maximum,
   or `known`, and the rows it settles: KL, and those whose maximum is not finite), row_sums
   (the passes over the row and the log-partition) and row_end (the outputs). Each returns
   whether the row goes on to the next stage. process_row runs them in turn; the groups of
   short rows (rows_worker) take row_begin and row_end, and group_sums for row_sums. */
/* The fields of J for row i of G (KL: z_q too). */
static void row_setup(SegJob *J, const Job *G, Py_ssize_t i)
{
    size_t xs = G->x32 ? 4 : 8;
    J->kind = G->kind;
    J->r.x = G->x + (size_t)i * G->K * xs;
    J->r.x32 = G->x32;
    J->r.beta = G->betas ? G->betas[i] : G->beta;
    J->r.scaled = J->r.beta != 1.0;
    J->r.m = 0.0;
    J->r.k = 0;
    J->out32 = G->out32;
    J->coarse = G->coarse;
    J->offset = 0.0;
    if (G->kind == KL) {
        J->q = J->r;
        J->q.x = G->x2 + (size_t)i * G->K * xs;
        J->out32 = 0;
    }
}

static int row_begin(SegJob *J, const Job *G, Py_ssize_t i, int threads, const MaxPart *known)
{
    size_t os = G->out32 ? 4 : 8;
    int kind = G->kind;
    row_setup(J, G, i);
    if (kind == KL) {
        kl_row(J, G, i, threads);
        return 0;
    }
    if (kind == SOFTMAX || kind == LOG_SOFTMAX)
        J->out = G->out + (size_t)i * G->K * os;
    else if (kind == LOG_SOFTMAX_DD)
        J->out = G->out + (size_t)i * G->K * 16;
    else
        J->out = G->out + (size_t)i * os;
    MaxPart mp;
    if (known)
        mp = *known;
    else {
        run_phase(J, PH_MAX, threads);
        mp = combine_max(J->max, J->nseg);
    }
    if (mp.nan || !isfinite(mp.m)) {
        special_row(J, G, i, mp);
        return 0;
    }
    J->r.m = mp.m;
    J->r.k = mp.k;
    return 1;
}

/* H of a row from its sums t, S (t >= TINY). */
static double entropy_finish(const SegJob *J, DD t, DD s)
{
    if (J->out32) /* float32: the float64 sum of two non-negative terms (see log_partition) */
        return log1p(t.hi) + (t.lo + (s.hi + s.lo)) / (1.0 + t.hi);
    return entropy_from_sums(t, s);
}

/* softmax: 1 / (1 + t) = r_hi + r_lo in double-double, p = (e + c) (r_hi + r_lo). */
static void reciprocal(SegJob *J, DD t)
{
    double z_hi, z_err, p;
    two_sum(1.0, t.hi, &z_hi, &z_err);
    J->r_hi = 1.0 / z_hi;
    p = J->r_hi * z_hi; /* r_hi <= 1 <= z_hi < 2^995: Dekker's range */
    J->r_lo = (((1.0 - p) - dekker(J->r_hi, z_hi, p)) - J->r_hi * (z_err + t.lo)) / z_hi;
}

/* The output of the log-domain kinds is offset + log Z: logsumexp m, cross_entropy -d_y. */
static void set_offset(SegJob *J, const Job *G, Py_ssize_t i)
{
    J->offset = 0.0;
    J->offset_lo = 0.0;
    if (J->kind == LSE)
        J->offset = J->r.m;
    else if (J->kind == CROSS_ENTROPY) {
        double d_hi, d_lo;
        shift(&J->r, at(&J->r, G->target[i]), &d_hi, &d_lo);
        J->offset = -d_hi;
        J->offset_lo = -d_lo;
    }
}

/* scratch: K doubles (softmax into float32: the exp of the row), or NULL */
static int row_sums(SegJob *J, const Job *G, Py_ssize_t i, int threads, double *scratch)
{
    int kind = J->kind;
    if (kind == ENTROPY && J->coarse) {
        J->want_s = 1;
        J->store = NULL;
        run_phase(J, PH_COARSE, threads);
        put(J->out, J->out32, 0, entropy_from_sums(combine(J->t, J->nseg), combine(J->s, J->nseg)));
        return 0;
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
            h = entropy_finish(J, t, s);
        put(J->out, J->out32, 0, h);
        return 0;
    }
    if (kind == SOFTMAX) {
        J->store = G->out32 ? scratch : (double *)J->out;
        if (J->coarse) { /* p = e * (1 / (1 + t)), see seg_fast_coarse */
            J->want_s = 0;
            run_phase(J, PH_COARSE, threads);
            J->r_hi = 1.0 / (1.0 + combine(J->t, J->nseg).hi);
            return 1; /* the write pass: seg_write_coarse */
        }
        run_phase(J, PH_FAST, threads);
        reciprocal(J, combine(J->t, J->nseg));
        return 1;
    }
    set_offset(J, G, i);
    log_partition(J, threads);
    return 1;
}

static void row_end(SegJob *J, int threads)
{
    int kind = J->kind;
    if (kind == LSE) {
        double total, err;
        two_sum(J->r.m, J->l_hi, &total, &err);
        put(J->out, J->out32, 0, total + (err + J->l_lo));
    }
    else if (kind == CROSS_ENTROPY) { /* log Z - d_y: two non-negative terms */
        double total, err;
        two_sum(J->l_hi, J->offset, &total, &err);
        put(J->out, J->out32, 0, isinf(total) ? total : total + (err + (J->l_lo + J->offset_lo)));
    }
    else
        run_phase(J, PH_WRITE, threads);
}

static void process_row(SegJob *J, const Job *G, Py_ssize_t i, int threads, double *scratch)
{
    if (row_begin(J, G, i, threads, NULL) && row_sums(J, G, i, threads, scratch))
        row_end(J, threads);
}

/* ------------------------------------------------------------ short rows, in groups */

/* Rows of up to PACK_ROW classes go in groups of up to PACK_MAX rows, one after the other in
   one block (K entries each, BLOCK in all): their maxima (seg_max on each), the shift of each
   (shift_block), the terms of the whole block in one vector loop (exp_fast, dd_terms), and
   each row's entries summed into LANES lanes of its own (entry i of the row in lane
   i % LANES, merge_used_lanes), as seg_fast and seg_dd sum a row alone: the same operations
   on the same values in the same order, so the same bits. A short row alone is one long
   chain of dependent operations (shift, exp, lane sums, merge, log1p) with little work for
   the vector loops; a group gives them the work of its rows, and the processor overlaps the
   rows' chains. */
#define PACK_ROW (BLOCK / 4)
#define PACK_MAX 64 /* rows in a group, at most */

/* The rows sel[0..m) of J, shifted, one after the other into hi + lo; the maximum of each
   (whose shift is exactly 0 + 0) as -inf + 0, whose terms are exactly 0 (exp_fast(-inf) = 0;
   exp_parts of -1100, scaled by 2^-1587: +-0), the term seg_fast and seg_dd leave out (adding
   +-0 to a lane of non-negative sums changes no bit). No store into the terms between their
   loop and the lanes' (a narrow store under a vector load stalls its forwarding). */
HOT_INLINE void pack_shift(const SegJob *J, const int *sel, int m, double *hi, double *lo)
{
    Py_ssize_t K = J[0].K;
    for (int j = 0; j < m; j++)
        shift_block(&J[sel[j]].r, 0, K, hi + j * K, lo + j * K);
    for (int j = 0; j < m; j++)
        hi[j * K + J[sel[j]].r.k] = -INFINITY;
}

/* The maxima of the rows i0, ..., i0 + n - 1 of G (what seg_max gives for each): the group
   transposed (column j of row g at v[j n8 + g], n8 = n rounded up to LANES, the rows past n
   -inf), then the columns in order, each compared with the running maxima of all the rows at
   once, LANES rows a vector. A strict comparison in column order keeps each row's first
   maximum (+-0 compare equal, as in max_range), and NaN entries compare false and set the
   flag: the same maximum, index and flag as seg_max. */
#define PACK_COLUMNS (BLOCK + LANES * PACK_ROW) /* K n8 <= K (BLOCK / K + LANES) */
HOT static void pack_max(const Job *G, Py_ssize_t i0, int n, MaxPart *o)
{
    Py_ssize_t K = G->K;
    int n8 = (n + LANES - 1) / LANES * LANES;
    double v[PACK_COLUMNS], m[PACK_MAX];
    int64_t k[PACK_MAX], nan[PACK_MAX];
    for (int g = 0; g < n8; g++) {
        Row r = {0};
        r.x32 = G->x32;
        r.x = G->x + (size_t)(i0 + (g < n ? g : 0)) * K * (G->x32 ? 4 : 8);
        for (Py_ssize_t j = 0; j < K; j++)
            v[j * n8 + g] = g < n ? at(&r, j) : -INFINITY;
        m[g] = -INFINITY;
        k[g] = 0;
        nan[g] = 0;
    }
    for (Py_ssize_t j = 0; j < K; j++) {
        const double *col = v + j * n8;
        int g = 0;
#ifdef LANE_VECTORS
        for (; g < n8; g += LANES) {
            lane_d x, lm;
            lane_i lk, ln;
            memcpy(&x, col + g, sizeof x);
            memcpy(&lm, m + g, sizeof lm);
            memcpy(&lk, k + g, sizeof lk);
            memcpy(&ln, nan + g, sizeof ln);
            lane_i above = x > lm;
            lm = (lane_d)(((lane_i)x & above) | ((lane_i)lm & ~above));
            lk = (((lane_i){0} + j) & above) | (lk & ~above);
            ln |= x != x;
            memcpy(m + g, &lm, sizeof lm);
            memcpy(k + g, &lk, sizeof lk);
            memcpy(nan + g, &ln, sizeof ln);
        }
#endif
        for (; g < n8; g++) {
            double x = col[g];
            int above = x > m[g];
            m[g] = above ? x : m[g];
            k[g] = above ? j : k[g];
            nan[g] |= x != x;
        }
    }
    for (int g = 0; g < n; g++) {
        o[g].m = m[g];
        o[g].k = k[g];
        o[g].nan = nan[g] != 0;
    }
}

/* The outputs of softmax and log_softmax of the rows g < n of J with live[g], packed as
   pack_fast packs them: the rows shifted one after the other, each row's 1 / Z (softmax, its
   terms from pack_fast in J[g].store) or log Z repeated over its entries, and the formulas of
   write_range on the whole block in one vector loop: the same operations on the same values,
   so the bits of seg_write. */
HOT static void pack_write(const SegJob *J, const int *live, int n)
{
    double hi[BLOCK], lo[BLOCK], a[BLOCK], b[BLOCK], ex[BLOCK], y[BLOCK], rest[BLOCK];
    int sel[PACK_MAX], m = 0, kind = J[0].kind;
    Py_ssize_t K = J[0].K;
    for (int g = 0; g < n; g++)
        if (live[g])
            sel[m++] = g;
    for (int j = 0; j < m; j++) {
        const SegJob *R = &J[sel[j]];
        shift_block(&R->r, 0, K, hi + j * K, lo + j * K);
        double u = kind == SOFTMAX ? R->r_hi : -R->l_hi, w = kind == SOFTMAX ? R->r_lo : R->l_lo;
        for (Py_ssize_t i = 0; i < K; i++) {
            a[j * K + i] = u;
            b[j * K + i] = w;
        }
        if (kind == SOFTMAX)
            memcpy(ex + j * K, R->store, (size_t)K * sizeof(double));
    }
    Py_ssize_t total = m * K;
    if (kind == SOFTMAX)
        for (Py_ssize_t i = 0; i < total; i++) {
            double c = ex[i] * lo[i];
            y[i] = ex[i] * a[i] + (c * a[i] + ex[i] * b[i]);
        }
    else
        for (Py_ssize_t i = 0; i < total; i++) {
            double s, err;
            two_sum(hi[i], a[i], &s, &err);
            double r = fabs(s) > DBL_MAX ? 0.0 : (err + lo[i]) - b[i];
            rest[i] = r;
            y[i] = kind == LOG_SOFTMAX_DD ? s : s + r;
        }
    for (int j = 0; j < m; j++) {
        const SegJob *R = &J[sel[j]];
        const double *yj = y + j * K;
        if (kind == SOFTMAX)
            y[j * K + R->r.k] = R->r_hi + R->r_lo;
        if (kind == LOG_SOFTMAX_DD) {
            double *out = (double *)R->out;
            for (Py_ssize_t i = 0; i < K; i++) {
                out[2 * i] = yj[i];
                out[2 * i + 1] = rest[j * K + i];
            }
        }
        else if (R->out32) {
            float *out = (float *)R->out;
            for (Py_ssize_t i = 0; i < K; i++)
                out[i] = (float)yj[i];
        }
        else
            memcpy(R->out, yj, (size_t)K * sizeof(double));
    }
}

/* seg_fast of the rows sel[0..m) of J (t[sel[j]], normalized as combine leaves it), the exp
   of row sel[j] into e_out + j K (or NULL; 0 at the maximum, which seg_write does not read). */
HOT static void pack_fast(const SegJob *J, const int *sel, int m, double *e_out, DD *t)
{
    double hi[BLOCK], lo[BLOCK], buf[BLOCK];
    double *e = e_out ? e_out : buf;
    Py_ssize_t K = J[0].K, n = m * K;
    pack_shift(J, sel, m, hi, lo);
    for (Py_ssize_t i = 0; i < n; i++)
        e[i] = exp_fast(hi[i]);
    for (int j = 0; j < m; j++) {
        double lane_hi[LANES] = {0.0}, lane_lo[LANES] = {0.0};
        lanes_add_corrected(lane_hi, lane_lo, e + j * K, lo + j * K, K);
        t[sel[j]] = normalized(merge_used_lanes(lane_hi, lane_lo, K));
    }
}

/* seg_dd (up = 0) of the rows sel[0..m) of J, as pack_fast. */
HOT static void pack_dd(const SegJob *J, const int *sel, int m, int want_s, DD *t, DD *s)
{
    double hi[BLOCK], lo[BLOCK], a[BLOCK], b[BLOCK], c[BLOCK], d[BLOCK];
    Py_ssize_t K = J[0].K;
    pack_shift(J, sel, m, hi, lo);
    dd_terms(hi, lo, m * K, 0, want_s, a, b, c, d);
    for (int j = 0; j < m; j++) {
        Py_ssize_t o = j * K;
        double t_hi[LANES] = {0.0}, t_lo[LANES] = {0.0}, s_hi[LANES] = {0.0}, s_lo[LANES] = {0.0};
        lanes_add_two(t_hi, t_lo, a + o, b + o, K);
        t[sel[j]] = normalized(merge_used_lanes(t_hi, t_lo, K));
        if (want_s) {
            lanes_add_two(s_hi, s_lo, c + o, d + o, K);
            s[sel[j]] = normalized(merge_used_lanes(s_hi, s_lo, K));
        }
    }
}

/* log1p_dd of the n <= PACK_MAX double-doubles t_hi + t_lo (the rows of a group), each with
   the bits log1p_dd gives it: libm's log1p where |t_hi| >= 0.1 (the seed), then the series
   and the Newton step on exp for every entry in vector loops, each selected as log1p_dd
   selects it (the same operations on the same values). */
HOT static void log1p_dd_rows(const double *t_hi, const double *t_lo, double *l_hi,
                              double *l_lo, int n)
{
    double l0[PACK_MAX], c[PACK_MAX], m_hi[PACK_MAX], m_lo[PACK_MAX];
    int64_t e[PACK_MAX];
    for (int i = 0; i < n; i++)
        l0[i] = fabs(t_hi[i]) < 0.1 ? 0.0 : log1p(t_hi[i]);
    for (int i = 0; i < n; i++)
        c[i] = clamp_hi(l0[i]);
    for (int i = 0; i < n; i++)
        exp_parts_clamped(c[i], 0.0, &m_hi[i], &m_lo[i], &e[i]);
    for (int i = 0; i < n; i++) {
        double th = t_hi[i], e_hi = ldexp2(m_hi[i], e[i]), e_lo = ldexp2(m_lo[i], e[i]);
        double series = th * th * horner_unrolled(th, LOG1P_TAIL, 20) + t_lo[i] / (1.0 + th);
        double a_hi, a_lo;
        two_sum(1.0, th, &a_hi, &a_lo);
        double residual = (e_hi - a_hi) + ((e_lo - a_lo) - t_lo[i]);
        double newton = -residual / (e_hi + e_lo);
        int small = fabs(th) < 0.1;
        l_hi[i] = small ? th : l0[i];
        l_lo[i] = small ? series : newton;
    }
}

/* row_sums of the rows g < n of a group with live[g], packed (what log_partition decides for
   a row alone, from the same sums: the rows below TINY take it by row). e: BLOCK doubles, the
   softmax terms kept for row_end. Rows that are done (entropy) leave live. */
static void group_sums(SegJob *J, const Job *G, Py_ssize_t i0, int *live, int n, double *e,
                       int *dd_first)
{
    int sel[PACK_MAX], fast[PACK_MAX], late[PACK_MAX], m = 0, m_fast = 0, m_late = 0;
    DD t[PACK_MAX], s[PACK_MAX], t_dd[PACK_MAX];
    Py_ssize_t K = J[0].K;
    for (int g = 0; g < n; g++)
        if (live[g])
            sel[m++] = g;
    if (m == 0)
        return;
    if (J[0].kind == ENTROPY) {
        pack_dd(J, sel, m, 1, t, s);
        for (int j = 0; j < m; j++) {
            int g = sel[j];
            if (t[g].hi < TINY)
                row_sums(&J[g], G, i0 + g, 1, NULL); /* scaled by 2^600 */
            else
                put(J[g].out, J[g].out32, 0, entropy_finish(&J[g], t[g], s[g]));
            live[g] = 0;
        }
        return;
    }
    if (J[0].kind == SOFTMAX) {
        pack_fast(J, sel, m, e, t);
        for (int j = 0; j < m; j++) {
            reciprocal(&J[sel[j]], t[sel[j]]);
            J[sel[j]].store = e + j * K;
        }
        return;
    }
    for (int j = 0; j < m; j++)
        set_offset(&J[sel[j]], G, i0 + sel[j]);
    if (J[0].out32) { /* see log_partition */
        pack_fast(J, sel, m, NULL, t);
        for (int j = 0; j < m; j++) {
            SegJob *R = &J[sel[j]];
            if (t[sel[j]].hi < TINY || kappa(R, t[sel[j]].hi) > KAPPA_F32) {
                /* summed again scaled by 2^600, or near cancellation: by row */
                R->dd_first = 0;
                log_partition(R, 1);
            }
            else {
                R->l_hi = log1p(t[sel[j]].hi);
                R->l_lo = t[sel[j]].lo / (1.0 + t[sel[j]].hi);
            }
        }
        return;
    }
    int have_dd = K <= 10 || *dd_first, took_dd = 0; /* rows that took the dd sums */
    int fin[PACK_MAX], m_fin = 0; /* the rows whose log1p_dd of f_hi + f_lo is left */
    double f_hi[PACK_MAX], f_lo[PACK_MAX], l_hi[PACK_MAX], l_lo[PACK_MAX];
#define FINISH(g, T) (fin[m_fin] = (g), f_hi[m_fin] = (T).hi, f_lo[m_fin++] = (T).lo)
    if (have_dd) {
        pack_dd(J, sel, m, 0, t_dd, s);
        for (int j = 0; j < m; j++) {
            int g = sel[j];
            if (t_dd[g].hi >= TINY &&
                (K <= 10 || kappa(&J[g], t_dd[g].hi) > KAPPA_FAST * (1.0 + 0x1p-20))) {
                FINISH(g, t_dd[g]);
                took_dd++;
            }
            else
                fast[m_fast++] = g;
        }
    }
    else
        for (int j = 0; j < m; j++)
            fast[m_fast++] = sel[j];
    if (m_fast > 0)
        pack_fast(J, fast, m_fast, NULL, t);
    for (int j = 0; j < m_fast; j++) {
        int g = fast[j];
        if (t[g].hi < TINY) { /* log1p(t) = t: summed again scaled by 2^600, by row */
            J[g].dd_first = 0;
            log_partition(&J[g], 1);
        }
        else if (kappa(&J[g], t[g].hi) <= KAPPA_FAST)
            FINISH(g, t[g]);
        else if (have_dd) {
            FINISH(g, t_dd[g]);
            took_dd++;
        }
        else
            late[m_late++] = g;
    }
    if (m_late > 0) {
        pack_dd(J, late, m_late, 0, t_dd, s);
        for (int j = 0; j < m_late; j++)
            FINISH(late[j], t_dd[late[j]]);
        took_dd += m_late;
    }
#undef FINISH
    log1p_dd_rows(f_hi, f_lo, l_hi, l_lo, m_fin);
    for (int j = 0; j < m_fin; j++) {
        J[fin[j]].l_hi = l_hi[j];
        J[fin[j]].l_lo = l_lo[j];
    }
    /* rows alike come together: after a group most of whose rows took the dd sums, the next
       group tries them first */
    *dd_first = 2 * took_dd > m;
}

/* KL of the float64 rows i0, ..., i0 + n - 1 of G (n K <= BLOCK), packed: kl_begin of each
   row (its flags pass alone), then the passes of log Z and of the sums on the rows that go on,
   one after the other in one block, each row's values repeated over its entries
   (KLRowValues, step 1) and each row summed into LANES lanes of its own, with
   kl_log_partition and kl_end of each: the operations of kl_row on the same values, so the
   same bits. */
HOT static void kl_group_passes(SegJob *J, const Job *G, Py_ssize_t i0, const int *sel, int m,
                                const int *off)
{
    KLBlock B;
    double vp[BLOCK + 8], vq[BLOCK + 8], mu[BLOCK + 8], l_hi[BLOCK + 8], l_lo[BLOCK + 8], r_hi[BLOCK + 8], r_lo[BLOCK + 8],
        centre[BLOCK + 8], a[BLOCK + 8], b[BLOCK + 8], c[BLOCK + 8], d[BLOCK + 8];
    uint64_t huge[BLOCK + 8];
    Py_ssize_t K = G->K, n = m * K;
    KLRowValues V = {mu, l_hi, l_lo, r_hi, r_lo, centre, 1};
    for (int j = 0; j < m; j++) {
        const SegJob *R = &J[sel[j]];
        Py_ssize_t o = j * K;
        shift_block(&R->r, 0, K, B.lp_hi + o, B.lp_lo + o);
        memcpy(vp + o, R->r.x, (size_t)K * sizeof(double));
        memcpy(vq + o, R->q.x, (size_t)K * sizeof(double));
        for (Py_ssize_t i = o; i < o + K; i++)
            mu[i] = R->mu;
    }
    kl_exp_parts(&B, n);
    kl_logz_terms(&B, vp, vq, &V, n, a, b, c);
    for (int j = 0; j < m; j++) {
        SegJob *R = &J[sel[j]];
        Py_ssize_t o = j * K;
        double t_hi[LANES] = {0.0}, t_lo[LANES] = {0.0}, c_hi[LANES] = {0.0}, c_lo[LANES] = {0.0};
        a[o + R->r.k] = b[o + R->r.k] = 0.0;
        lanes_add_two(t_hi, t_lo, a + o, b + o, K);
        lanes_add_one(c_hi, c_lo, c + o, K);
        DD t = merge_lanes(t_hi, t_lo), centred = merge_lanes(c_hi, c_lo);
        kl_log_partition(R, combine(&t, 1), combine(&centred, 1));
        for (Py_ssize_t i = o; i < o + K; i++) {
            l_hi[i] = R->l_hi;
            l_lo[i] = R->l_lo;
            r_hi[i] = R->r_hi;
            r_lo[i] = R->r_lo;
            centre[i] = R->centre;
        }
    }
    kl_finish_terms(&B, vp, vq, &V, n);
    kl_sums_terms(&B, &V, n, a, b, c, d, huge);
    for (int j = 0; j < m; j++) {
        Py_ssize_t o = j * K;
        double r_hi_l[LANES] = {0.0}, r_lo_l[LANES] = {0.0}, g_hi[LANES] = {0.0},
               g_lo[LANES] = {0.0};
        uint64_t large = 0;
        for (Py_ssize_t i = o; i < o + K; i++)
            large |= huge[i];
        lanes_add_two(r_hi_l, r_lo_l, a + o, b + o, K);
        lanes_add_two(g_hi, g_lo, c + o, d + o, K);
        DD r = merge_lanes(r_hi_l, r_lo_l), g = merge_lanes(g_hi, g_lo);
        kl_end(&J[sel[j]], G, i0 + sel[j], 1, combine(&r, 1).hi, combine(&g, 1), large != 0,
               off[sel[j]]);
    }
}

/* KL packs float64 rows of up to KL_PACK_ROW classes: 20-35% faster than the rows alone at
   K = 2-11, and slower from K = 16 on (measured on AVX-512, 20000 rows). */
#define KL_PACK_ROW 12
static void kl_group(SegJob *J, const Job *G, Py_ssize_t i0, int n)
{
    int sel[PACK_MAX], off[PACK_MAX], m = 0;
    for (int g = 0; g < n; g++) {
        row_setup(&J[g], G, i0 + g);
        if (kl_begin(&J[g], G, i0 + g, 1, &off[g]))
            sel[m++] = g;
    }
    if (m > 0)
        kl_group_passes(J, G, i0, sel, m, off);
}

/* Short rows: each row on one thread, one segment; rows of up to PACK_ROW classes in groups
   (group_sums), longer ones one by one. */
static void rows_worker(void *ctx, Py_ssize_t i0, Py_ssize_t i1)
{
    Job *G = (Job *)ctx;
    MaxPart max[PACK_MAX];
    KLPart kl;
    DD t[PACK_MAX], s[PACK_MAX];
    SegJob J[PACK_MAX];
    int live[PACK_MAX];
    memset(J, 0, sizeof J);
    for (int g = 0; g < PACK_MAX; g++) {
        J[g].K = J[g].seglen = G->K;
        J[g].nseg = 1;
        J[g].max = &max[g];
        J[g].kl = &kl;
        J[g].t = &t[g];
        J[g].s = &s[g];
    }
    if ((G->kind == KL && (G->x32 || G->K > KL_PACK_ROW)) || G->K > PACK_ROW) {
        if (G->kind == KL && G->x32) /* NULL: the weights again */
            J[0].kl_w = (double *)malloc((size_t)G->K * sizeof(double));
        if (G->kind == KL && G->K <= KL_CACHE_ROW) /* NULL: the terms again */
            J[0].kl_cache =
                (KLBlock *)malloc((size_t)((G->K + BLOCK - 1) / BLOCK) * sizeof(KLBlock));
        double *scratch = NULL;
        if (G->kind == SOFTMAX && G->out32) /* NULL: exp again */
            scratch = (double *)malloc((size_t)G->K * sizeof(double));
        for (Py_ssize_t i = i0; i < i1; i++)
            process_row(&J[0], G, i, 1, scratch);
        free(scratch);
        free(J[0].kl_cache);
        free(J[0].kl_w);
        return;
    }
    double e[BLOCK];
    int per_group = BLOCK / G->K < PACK_MAX ? (int)(BLOCK / G->K) : PACK_MAX, dd_first = 0;
    for (Py_ssize_t i = i0; i < i1; i += per_group) {
        int n = i1 - i < per_group ? (int)(i1 - i) : per_group;
        if (G->kind == KL) {
            kl_group(J, G, i, n);
            continue;
        }
        pack_max(G, i, n, max);
        for (int g = 0; g < n; g++)
            live[g] = row_begin(&J[g], G, i + g, 1, &max[g]);
        group_sums(J, G, i, live, n, e, &dd_first);
        if (G->kind == SOFTMAX || G->kind == LOG_SOFTMAX || G->kind == LOG_SOFTMAX_DD)
            pack_write(J, live, n);
        else
            for (int g = 0; g < n; g++)
                if (live[g])
                    row_end(&J[g], 1);
    }
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
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        idx[m] = (int32_t)i;
        m += !(fabs(t_hi[i]) < 0.1);
    }
    /* the series where some entry takes it (the others' values are replaced below; a Python
       float takes one of the two ways only) */
    if (m < n)
        for (Py_ssize_t i = 0; i < n; i++) {
            double th = t_hi[i];
            l_hi[i] = th;
            l_lo[i] = th * th * horner_unrolled(th, LOG1P_TAIL, 20) + t_lo[i] / (1.0 + th);
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

/* The tables of log1mexp (log1mexp_one; generated with mpmath).
   The log: s = 2^k z, z in [OFF, 2 OFF) (OFF = 0.6855), cell i = bits 45..51 of
   bits(s) - bits(OFF): 2^-8 wide below 1, 2^-7 above, the cell of 1 straddling it
   ([1 - 2^-9, 1 + 2^-8)). LOG_INVC[i] = 1/c has 26 bits (1 in the cell of 1), c near the
   cell's middle, chosen so that LOG_C[i] = log c = -log(LOG_INVC[i]) is a double to within
   2^-64 of itself. Over its cell |z / c - 1| < 1.0032 2^-8 (< |log c| - 0.0019 where
   c != 1).
   e^x: T26_HI[j] + T26_LO[j] = 2^(j/64) to 2^-80 relative, T26_HI of 26 bits.
   LOG1P_POLY: log1p(r) = r - r^2/2 + r^3 P(r) for |r| <= 1.0032 2^-8 within 2^-62.9 |r|
   (minimax by mpmath.chebyfit, in the coefficients as rounded). */
#define LOG_OFF 0x3fe5f00000000000ULL
#define LN2_HI 0x1.62e42fefa3800p-1 /* 42 bits: k LN2_HI is exact for |k| < 2^11 */
#define LN2_LO 0x1.ef35793c76730p-45 /* LN2_HI + LN2_LO = log 2 to 2^-102 */
static const double LOG_INVC[128] = {0x1.745cb20000000p+0, 0x1.7241508000000p+0, 0x1.702e250000000p+0, 0x1.6e1ee88000000p+0, 0x1.6c17900000000p+0, 0x1.6a11f48000000p+0, 0x1.68153e0000000p+0, 0x1.661d530000000p+0, 0x1.642e378000000p+0, 0x1.6240608000000p+0, 0x1.6056588000000p+0, 0x1.5e75a60000000p+0, 0x1.5c98c90000000p+0, 0x1.5abcdd0000000p+0, 0x1.58ef170000000p+0, 0x1.571e030000000p+0, 0x1.55545f8000000p+0, 0x1.53967a0000000p+0, 0x1.51d0108000000p+0, 0x1.5015228000000p+0, 0x1.4e5ecd0000000p+0, 0x1.4cafa80000000p+0, 0x1.4afdfc0000000p+0, 0x1.4953270000000p+0, 0x1.47af120000000p+0, 0x1.460d1a8000000p+0, 0x1.446fef8000000p+0, 0x1.42d6a98000000p+0, 0x1.4140f18000000p+0, 0x1.3fae6f8000000p+0, 0x1.3e233f8000000p+0, 0x1.3c9ae68000000p+0, 0x1.3b11b08000000p+0, 0x1.3992d20000000p+0, 0x1.38135c0000000p+0, 0x1.3699d68000000p+0, 0x1.3520760000000p+0, 0x1.33aef68000000p+0, 0x1.323d128000000p+0, 0x1.30cf4c0000000p+0, 0x1.2f628d8000000p+0, 0x1.2e036c0000000p+0, 0x1.2c9b278000000p+0, 0x1.2b3f148000000p+0, 0x1.29dfbf8000000p+0, 0x1.288b098000000p+0, 0x1.2736938000000p+0, 0x1.25e2258000000p+0, 0x1.2496938000000p+0, 0x1.2345fa8000000p+0, 0x1.21fad40000000p+0, 0x1.20b2950000000p+0, 0x1.1f71588000000p+0, 0x1.1e2ee78000000p+0, 0x1.1cefe00000000p+0, 0x1.1bb4c58000000p+0, 0x1.1a7c738000000p+0, 0x1.1947068000000p+0, 0x1.18113e0000000p+0, 0x1.16e09d8000000p+0, 0x1.15b10f0000000p+0, 0x1.14873b0000000p+0, 0x1.135d698000000p+0, 0x1.1236178000000p+0, 0x1.1110fd0000000p+0, 0x1.0feeeb0000000p+0, 0x1.0ed1ed0000000p+0, 0x1.0db0db8000000p+0, 0x1.0c97760000000p+0, 0x1.0b7ef28000000p+0, 0x1.0a66f90000000p+0, 0x1.09535b0000000p+0, 0x1.083ebc0000000p+0, 0x1.07303a0000000p+0, 0x1.06261c8000000p+0, 0x1.051aa80000000p+0, 0x1.040fe98000000p+0, 0x1.0308958000000p+0, 0x1.0204288000000p+0, 0x1.00ff4c0000000p+0, 0x1.0000000000000p+0, 0x1.fc025c0000000p-1, 0x1.f81e790000000p-1, 0x1.f4404c8000000p-1, 0x1.f07e670000000p-1, 0x1.ecbfb08000000p-1, 0x1.e9160c8000000p-1, 0x1.e573e48000000p-1, 0x1.e1e6e00000000p-1, 0x1.de5bd70000000p-1, 0x1.dae0a78000000p-1, 0x1.d775d28000000p-1, 0x1.d41caa8000000p-1, 0x1.d0ca870000000p-1, 0x1.cd86408000000p-1, 0x1.ca4b338000000p-1, 0x1.c71bc00000000p-1, 0x1.c3f75f0000000p-1, 0x1.c0de2c8000000p-1, 0x1.bdd0cc8000000p-1, 0x1.bad03a0000000p-1, 0x1.b7d6ac8000000p-1, 0x1.b4e47e8000000p-1, 0x1.b205128000000p-1, 0x1.af28378000000p-1, 0x1.ac570f8000000p-1, 0x1.a98eee0000000p-1, 0x1.a6d0f08000000p-1, 0x1.a4197c8000000p-1, 0x1.a16cc30000000p-1, 0x1.9ec8c28000000p-1, 0x1.9c32778000000p-1, 0x1.999b260000000p-1, 0x1.970de58000000p-1, 0x1.9489f58000000p-1, 0x1.9210c18000000p-1, 0x1.8f9c5b0000000p-1, 0x1.8d30cb0000000p-1, 0x1.8acd5e8000000p-1, 0x1.886d9d8000000p-1, 0x1.8610e20000000p-1, 0x1.83c53d8000000p-1, 0x1.81823c0000000p-1, 0x1.7f3ff28000000p-1, 0x1.7d0a390000000p-1, 0x1.7ad2548000000p-1, 0x1.78a5e58000000p-1, 0x1.767bcf8000000p-1};
static const double LOG_C[128] = {-0x1.7fae8d3d5b727p-2, -0x1.79df0928656aep-2, -0x1.741dde54640b0p-2, -0x1.6e5f60b0a459cp-2, -0x1.68aec8e921ce6p-2, -0x1.62faf82a428acp-2, -0x1.5d584643f8f1ep-2, -0x1.57bb4e8e65b74p-2, -0x1.522fc00092486p-2, -0x1.4ca020d2e7092p-2, -0x1.4713cd57e9a4ap-2, -0x1.419b03455c9cdp-2, -0x1.3c25f5e31e493p-2, -0x1.36ac3402b65dcp-2, -0x1.3154ea610217fp-2, -0x1.2bec98c10ba98p-2, -0x1.26933f9244246p-2, -0x1.21561e9166e51p-2, -0x1.1bf8483970421p-2, -0x1.16b631d8cab92p-2, -0x1.117b3bf1d0f1fp-2, -0x1.0c4f8781f3a72p-2, -0x1.071549a471eeap-2, -0x1.01e972a6294c8p-2, -0x1.f997f748d645dp-3, -0x1.ef5d2cc17ae0cp-3, -0x1.e53387d6056a3p-3, -0x1.db159e5116dc8p-3, -0x1.d10182b616caep-3, -0x1.c6f536b41572bp-3, -0x1.bd0b5c4b361e4p-3, -0x1.b327887b79197p-3, -0x1.a931cefe15d95p-3, -0x1.9f732bfd8b2fep-3, -0x1.95a4b98f61875p-3, -0x1.8bf15d0d06f8ap-3, -0x1.8233241019a49p-3, -0x1.789d7116f2b32p-3, -0x1.6ef9946bbf8c4p-3, -0x1.6565b27a44bf8p-3, -0x1.5bcd4177520d2p-3, -0x1.528592a6dcdb5p-3, -0x1.48f4d50f1f773p-3, -0x1.3fac0ea1456f9p-3, -0x1.36420f5a186ebp-3, -0x1.2d164a6467443p-3, -0x1.23e1b1e58edabp-3, -0x1.1aa2ad363f6b8p-3, -0x1.1196f06a1ef05p-3, -0x1.085d94acdef15p-3, -0x1.fe80061b2db7bp-4, -0x1.ec593a0ae70bap-4, -0x1.da81a35111e11p-4, -0x1.c884d173c0f8fp-4, -0x1.b6a4bcd8ef5cap-4, -0x1.a4e94772ff3cfp-4, -0x1.93427090aa318p-4, -0x1.81b231866dc46p-4, -0x1.70095b6e3684ep-4, -0x1.5e98ae212f5c9p-4, -0x1.4d24b30d3ca79p-4, -0x1.3bf27461b80d5p-4, -0x1.2aadcb8ebe61fp-4, -0x1.197bbc1a65d31p-4, -0x1.08585e59d8912p-4, -0x1.eea083605091cp-5, -0x1.cd057dbe2c7a3p-5, -0x1.aacb384b7db8ap-5, -0x1.89563047e4cd3p-5, -0x1.67d911b96a33dp-5, -0x1.464955f13cd2dp-5, -0x1.251ccc9387482p-5, -0x1.03ae9bf7ed85ep-5, -0x1.c5b748b539624p-6, -0x1.84e0479d11eb9p-6, -0x1.437340303c3ecp-6, -0x1.01efdc0595d1fp-6, -0x1.820269e7757fbp-7, -0x1.01116ed78af50p-7, -0x1.fd9a1046e2c11p-9, 0x0.0p+0, 0x1.0069275245986p-7, 0x1.fc4dd2216e822p-7, 0x1.7c57e8504ea1cp-6, 0x1.f7de6a13c868bp-6, 0x1.39f5a552a0e16p-5, 0x1.77143e292eab3p-5, 0x1.b42a2721cd7e1p-5, 0x1.f04e2c71a4736p-5, 0x1.16610e0004050p-4, 0x1.344bd4f4e5295p-4, 0x1.51e0df81a5577p-4, 0x1.6f1254cf2cbbcp-4, 0x1.8c3b97b4bb9fdp-4, 0x1.a91f57366daa9p-4, 0x1.c5e52cadbc8d3p-4, 0x1.e276b6e3e7aebp-4, 0x1.fed746340baeep-4, 0x1.0d823ccbb4e49p-3, 0x1.1b7b81ebd619fp-3, 0x1.2952234293f37p-3, 0x1.37202ecdebdb1p-3, 0x1.44e3a5e6a3ee3p-3, 0x1.52666ef20a9e5p-3, 0x1.5ff3ff6a884cep-3, 0x1.6d60bc559e32fp-3, 0x1.7ab8b6c10deddp-3, 0x1.87f5f96713112p-3, 0x1.95296ae026eb2p-3, 0x1.a23e254686905p-3, 0x1.af3d549014f6fp-3, 0x1.bc0da5ab97513p-3, 0x1.c8f7be7d68affp-3, 0x1.d5c42c09412a9p-3, 0x1.e2760c0ca1d6cp-3, 0x1.ef05831b8f8f5p-3, 0x1.fb903475ffd6cp-3, 0x1.04008defb40c5p-2, 0x1.0a2da10df4c9fp-2, 0x1.105ab8a161369p-2, 0x1.168979ab27f8fp-2, 0x1.1c94b5c02cfc8p-2, 0x1.2292305d6f68cp-2, 0x1.2896c55012116p-2, 0x1.2e82b28e86236p-2, 0x1.347d4d3f9175dp-2, 0x1.3a61bd63ba5cfp-2, 0x1.40487d0a22eb1p-2};
static const double T26_HI[64] = {0x1.0000000000000p+0, 0x1.02c9a40000000p+0, 0x1.059b0d0000000p+0, 0x1.0874518000000p+0, 0x1.0b55870000000p+0, 0x1.0e3ec30000000p+0, 0x1.11301d0000000p+0, 0x1.1429ab0000000p+0, 0x1.172b840000000p+0, 0x1.1a35be8000000p+0, 0x1.1d48730000000p+0, 0x1.2063b88000000p+0, 0x1.2387a70000000p+0, 0x1.26b4568000000p+0, 0x1.29e9df8000000p+0, 0x1.2d285a8000000p+0, 0x1.306fe08000000p+0, 0x1.33c08b0000000p+0, 0x1.371a738000000p+0, 0x1.3a7db38000000p+0, 0x1.3dea650000000p+0, 0x1.4160a20000000p+0, 0x1.44e0860000000p+0, 0x1.486a2b8000000p+0, 0x1.4bfdad8000000p+0, 0x1.4f9b278000000p+0, 0x1.5342b58000000p+0, 0x1.56f4738000000p+0, 0x1.5ab07e0000000p+0, 0x1.5e76f18000000p+0, 0x1.6247eb0000000p+0, 0x1.6623880000000p+0, 0x1.6a09e68000000p+0, 0x1.6dfb240000000p+0, 0x1.71f75e8000000p+0, 0x1.75feb58000000p+0, 0x1.7a11470000000p+0, 0x1.7e2f338000000p+0, 0x1.8258998000000p+0, 0x1.868d998000000p+0, 0x1.8ace540000000p+0, 0x1.8f1ae98000000p+0, 0x1.93737b0000000p+0, 0x1.97d82a0000000p+0, 0x1.9c49180000000p+0, 0x1.a0c6678000000p+0, 0x1.a5503b0000000p+0, 0x1.a9e6b58000000p+0, 0x1.ae89f98000000p+0, 0x1.b33a2b8000000p+0, 0x1.b7f76f0000000p+0, 0x1.bcc1e90000000p+0, 0x1.c199be0000000p+0, 0x1.c67f130000000p+0, 0x1.cb720e0000000p+0, 0x1.d072d48000000p+0, 0x1.d5818e0000000p+0, 0x1.da9e600000000p+0, 0x1.dfc9730000000p+0, 0x1.e502ee8000000p+0, 0x1.ea4afa0000000p+0, 0x1.efa1bf0000000p+0, 0x1.f507658000000p+0, 0x1.fa7c180000000p+0};
static const double T26_LO[64] = {0x0.0p+0, -0x1.887f9f1190835p-28, 0x1.8ac2ba1d73e2ap-27, 0x1.d66f20230d7c9p-30, -0x1.833b784eb3a37p-27, 0x1.69e8d10103a17p-27, 0x1.25b50a4ebbf1bp-32, -0x1.56d2204cbefe7p-28, -0x1.c15742919041cp-27, 0x1.b7e5ba9e5b4c8p-27, 0x1.68b9aa7805b80p-28, 0x1.8a3358ee3bac1p-30, -0x1.8a9dc7993e052p-28, -0x1.0ec1916d42cc6p-27, -0x1.70108f69ed175p-27, -0x1.1bfcf4bff6e2bp-28, 0x1.18db8a96f46adp-27, 0x1.320b7fa64e431p-27, -0x1.8aac6ab1d7560p-29, -0x1.8d30048af21b7p-27, -0x1.f6e5eee525f6fp-27, 0x1.f72e29f84325cp-28, 0x1.8624b40c4dbd0p-30, -0x1.1f6197f61f2e2p-27, -0x1.64eaec715e343p-27, -0x1.62d35952cc275p-28, -0x1.62b07e20f57c4p-28, -0x1.4ad8259913500p-28, -0x1.5bd5eb539b67fp-27, -0x1.296f5bc8b20dap-27, 0x1.d2ac258f87d03p-31, 0x1.2a91124893ecfp-27, -0x1.80c4336f74d05p-28, -0x1.cd72e886ef8eap-27, 0x1.d8bee7ba46e1ep-29, -0x1.bd98374091656p-28, 0x1.f580c36bea881p-27, -0x1.30b19defa2fd4p-28, 0x1.4cce128acf88bp-28, 0x1.a2497640720edp-27, 0x1.15506dadd3e2bp-27, 0x1.1577362b98274p-28, 0x1.9b8bc9e8a0388p-29, -0x1.0d8d83a30b6f8p-31, 0x1.51f8480e3e236p-27, 0x1.aef2b2594d6d4p-27, 0x1.1f12ae45a1225p-27, -0x1.4301205e0a6dep-27, 0x1.5ad3ad5e8734dp-28, 0x1.3c57ebdaff43ap-30, 0x1.7daf237553d84p-27, 0x1.2f074891ee83dp-30, -0x1.3d56b1eeef9a7p-27, -0x1.a82eb4b5dec80p-28, -0x1.8837cb757e1a1p-27, 0x1.03c4bdc687918p-27, -0x1.822dbc6d12fd3p-27, 0x1.ed9942b84600dp-27, 0x1.bdcdaf5cb4656p-27, -0x1.d30027630bb40p-30, 0x1.52486cc2c7b9dp-27, -0x1.9ea5d888e02dep-28, 0x1.b722a033a7c26p-27, 0x1.9e90d82e90a7ep-28};
static const double LOG1P_POLY[5] = {0x1.5555555555555p-2, -0x1.ffffffffaef96p-3, 0x1.999999995193cp-3, -0x1.555697613a88dp-3, 0x1.249367680deccp-3};

/* u + v = a + b exactly for |a| >= |b| or a = 0 (Dekker's Fast2Sum). */
EW_INLINE void fast_two_sum(double a, double b, double *u, double *v)
{
    double s = a + b;
    *v = b - (s - a);
    *u = s;
}

/* log(1 - e^x) for one x, straight-line code with selects (no branch, no libm: the loop of
   log1mexp_block vectorises), rounded once. Errors in units u = 2^-53 of the result
   unless said otherwise.

   1. 1 - e^x = s_hi + s_lo. e^x = 2^n T (1 + q) by exp_parts' reduction: k = rint(64 x /
   log 2), j = k mod 64, n = k div 64, T = 2^(j/64), r = x - k log(2)/64 as r + r_err
   (Cody-Waite, exact but for k C2's rounding, 2^-74), |r| <= log(2)/128 < 2^-7.5; q = e^r - 1
   = q_hi + q_lo (Fast2Sum) of r and r^2 EXP_TAIL(r) + r_err, the series to r^6: truncation
   below 2^-57.5 |q|, the tail's roundings (and the r_err r dropped) below 2^-53 r^2. So
   q's error is below 2^-57.3 |q| at k = 0 (r = x, r_err = 0) and below 2^-64.6 elsewhere.
   m_hi + m_lo = T (1 + q): T26_HI times the top 27 bits of q_hi is exact, Fast2Sum with
   T26_HI, and m_lo collects the rest (q's low bits, T26_LO), rounded within 2^-78 T.
   a_hi + a_lo = 1 - 2^n m_hi exactly (Fast2Sum, 2^n m_hi <= 1, normal for x >= -32), and
   s_hi + s_lo = a_hi + (a_lo - 2^n m_lo) (Fast2Sum: |a_lo - 2^n m_lo| <= |a_hi| or
   a_hi = 0), one rounding of a term below 2^-52 max(s_hi, e^x). No cancellation is left
   to amplify an error: 1 - 2^n m_hi is exact and every error is relative to e^x or to q.
   Each enters y = log s as (error of s) / s in absolute value: at k = 0 (|y| > 5.2) below
   2^-57.3 + 2^-53 min(1, 2^-53 / s) (m_lo's rounding; |y| > 36 where s < 2^-53), so below
   2^-5.2 u |y|; elsewhere below 2^-64.5 e^x / s + 2^-105 / s, below 2^-6 u |y|
   (e^x / (s |log s|) < 36, at k = -1).

   2. log(s_hi + s_lo) = k' log 2 + log c + log1p(r'), s_hi = 2^k' z (scaled by 2^100
   below 2^-1000, x > -2^-1000), c = 1/LOG_INVC[i], and r' = z / c - 1 + s_lo 2^-k' / c
   as r_hi + r_lo: with z = z_h + z_l (z_h its top 26 bits), z_h / c - 1 is exact (26 + 26
   bits, Sterbenz), z_l / c exact (27 + 26 bits), TwoSum; the s_lo term rounds once, below
   2^-105 absolute, and is exact in the cell of 1 (c = 1). log1p(r') = r' + poly(rr),
   rr = fl(r'): poly within 2^-62.9 |r'| (LOG1P_POLY), its roundings and rr's below 2^-60 |r'|.
   k' LN2_HI (exact) + LOG_C + r_hi by two Fast2Sums (|k' LN2_HI| >= 0.69 > 0.38 > |log c|
   for k' != 0, |log c| > |r_hi| for c != 1) into h2 + lo, lo collecting their errors,
   k' LN2_LO, r_lo and the polynomial. In the cell of 1 (y = log1p(r')) lo is below
   2^-8 |y| and rounded once; elsewhere |y| > 0.0019 and the errors (LOG_C's 2^-64 |log c|,
   lo's roundings) stay below 2^-60 |y| = 2^-7 u |y|. So y before its rounding is within
   2^-4.5 u |y|, and the result within 0.5 + 2^-4.5 < 0.55 ULP (measured: 0.5034 at most on
   dense samples of every regime).

   3. Below -32 (e^x < 2^-46) the result is -e^x (1 + e^x / 2) (next term e^3x / 3, below
   2^-92 of it) = -2^n (m_hi + (m_lo + m_hi e^x / 2)), rounded once by the scaling (ldexp2's
   two factors) for a normal result: within 0.5 + 2^-70 ULP; a subnormal one (x < -708.4)
   is rounded twice, within 0.76 ULP as exp_fast's. -inf at x = 0 (and -0), 0 below -746
   (and at -inf), NaN for x > 0, x for NaN. */
EW_INLINE double log1mexp_one(double x)
{
    /* 1 - e^x = s_hi + s_lo */
    double shifted = x * INV_C + EXP_SHIFTER;
    double kf = shifted - EXP_SHIFTER;
    uint64_t kb = to_bits(shifted) - to_bits(EXP_SHIFTER) + (1ULL << 20); /* k + 2^20 */
    int64_t n = (int64_t)(kb >> 6) - (1 << 14);
    uint64_t j = kb & 63;
    double r, r_err;
    two_sum(x - kf * C1, -(kf * C2), &r, &r_err);
    double q_hi, q_lo;
    fast_two_sum(r, r * r * horner_unrolled(r, EXP_TAIL, 5) + r_err, &q_hi, &q_lo);
    /* e^x = 2^n (m_hi + m_lo), m_hi + m_lo = T (1 + q) */
    double t = T26_HI[j], q_top = from_bits(to_bits(q_hi) & ~((1ULL << 26) - 1));
    double p = t * q_top, m_hi, m_lo;
    fast_two_sum(t, p, &m_hi, &m_lo);
    m_lo += t * ((q_hi - q_top) + q_lo) + T26_LO[j] * (1.0 + q_hi);
    int64_t n1 = n >> 1; /* 2^n = 2^n1 2^(n - n1), as ldexp2 */
    double scale1 = from_bits((uint64_t)(n1 + 1023) << 52);
    double scale2 = from_bits((uint64_t)(n - n1 + 1023) << 52);
    double scale = scale1 * scale2;
    double a_hi, a_lo, s_hi, s_lo;
    fast_two_sum(1.0, -(scale * m_hi), &a_hi, &a_lo);
    fast_two_sum(a_hi, a_lo - scale * m_lo, &s_hi, &s_lo);
    double half_e = 0.5 * (scale * m_hi);
    double tail = 0.0 - (m_hi + (m_lo + m_hi * half_e)) * scale1 * scale2;
    /* log(s_hi + s_lo) */
    uint64_t tiny = mask_if(s_hi < 0x1p-1000) & 100; /* scaled by 2^100 below 2^-1000 */
    double up = from_bits(to_bits(1.0) + (tiny << 52));
    s_hi *= up;
    s_lo *= up;
    uint64_t off = to_bits(s_hi) - LOG_OFF;
    uint64_t i = (off >> 45) & 127;
    uint64_t k_biased = (off + (2048ULL << 52)) >> 52; /* k' + 2048 */
    double z = from_bits(to_bits(s_hi) - ((k_biased - 2048) << 52));
    double z_h = from_bits(to_bits(z) & ~((1ULL << 27) - 1));
    double inv = LOG_INVC[i];
    double r_hi, r_lo;
    two_sum(z_h * inv - 1.0, (z - z_h) * inv, &r_hi, &r_lo);
    r_lo += s_lo * from_bits((3071 - k_biased) << 52) * inv; /* 2^-k' */
    double k_log = from_bits(to_bits(EXP_SHIFTER) + k_biased - tiny) - (EXP_SHIFTER + 2048.0);
    double h1, e1, h2, e2;
    fast_two_sum(k_log * LN2_HI, LOG_C[i], &h1, &e1);
    fast_two_sum(h1, r_hi, &h2, &e2);
    double rr = r_hi + r_lo;
    double poly = rr * rr * (rr * horner_unrolled(rr, LOG1P_POLY, 5) - 0.5);
    double lo = (e1 + e2) + k_log * LN2_LO + (r_lo + poly);
    double y = h2 + lo;
    /* the selects are bitwise (select_d): gcc would move the computations of a value
       selected by a condition into a branch, and not vectorise the loop */
    y = select_d(mask_if(x < -32.0), tail, y);
    double edge = x < -746.0 ? 0.0 : (x == 0.0 ? -INFINITY : NAN);
    edge = x != x ? x : edge;
    return select_d(mask_if(!((x < 0.0) & (x >= -746.0))), edge, y);
}

HOT static void log1mexp_block(const double *restrict x, double *restrict y, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        y[i] = log1mexp_one(x[i]);
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
