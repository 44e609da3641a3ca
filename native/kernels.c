/*
 * phenomap's dense kernels as a native addon (N-API), built at install by node-gyp when a C
 * compiler is present; src/linalg/native.ts loads it and falls back to the WebAssembly kernels
 * when it is absent.
 *
 * Why native: WebAssembly in Node 20 has 128-bit vectors only and every operand must be copied
 * into its memory; here the kernels work on the JavaScript arrays in place with 256-bit vectors
 * (AVX2, chosen at load time by GCC's target_clones; plain C elsewhere).
 *
 * Every kernel performs exactly the floating-point operations of its JavaScript twin, in the
 * same order, so results are bit-identical on every backend. That rests on three rules:
 *  - the build passes -ffp-contract=off (no fused multiply-add) and never -ffast-math;
 *  - vectors only run across independent results (columns of C, rows of a column pass) or
 *    across the partial sums the JavaScript twin keeps anyway (tred_symv's four lanes);
 *  - every sum starts from +0.0 and adds terms in the twin's order.
 */
#include <node_api.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define MULTIVERSION
#endif

typedef double v4d __attribute__((vector_size(32)));
typedef double v4du __attribute__((vector_size(32), aligned(8)));

static inline v4d loadu(const double *p) { return *(const v4du *)p; }
static inline void storeu(double *p, v4d v) { *(v4du *)p = v; }
static inline v4d splat(double x) { return (v4d){x, x, x, x}; }
typedef long long v4l __attribute__((vector_size(32)));

static inline v4d vmax0(v4d x) { return (v4d)((v4l)x & (v4l)(x > splat(0.0))); } /* 0 < x ? x : 0 */
static inline v4d vsel(v4l m, v4d a, v4d b) { return (v4d)(((v4l)a & m) | ((v4l)b & ~m)); } /* m ? a : b */

/*
 * Ask for transparent huge pages over the 2 MiB-aligned interior of a large array before its first
 * touch (numpy does the same for its large allocations). On this VM a fresh 4 KiB page costs
 * ≈ 13 µs to fault in (a 60 MB product's output: ≈ 200 ms, five times the arithmetic); a 2 MiB
 * page costs about as much as 4 KiB ones did for 8 KiB. Only a hint: pages already touched, or a
 * kernel without THP, leave everything as it was, and values never depend on it.
 */
static void advise_huge(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t H = (uintptr_t)1 << 21;
  if (bytes < 2 * H) return;
  const uintptr_t a = ((uintptr_t)p + H - 1) & ~(H - 1), b = ((uintptr_t)p + bytes) & ~(H - 1);
  if (b > a) madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* C = A·Bᵀ                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/*
 * MR: rows per micro-tile (4 with AVX2 / plain C, 8 with AVX-512; see pick_micro); NR: columns.
 * KC = 512 keeps a product with k ≤ 512 in one k chunk (no partial sums written to C and read
 * back); an MC = 96-row A block (384 KB) stays in L2 while the NR = 16-column B panels stream by.
 */
enum { MR_MAX = 8, NR = 16, KC = 512, MC = 96 };

typedef struct {
  const void *src;
  int f32;   /* float32 storage (widened when packed) */
  int trans; /* stored transposed: element (row, p) at src[p * ld + row] */
  int ld;    /* row length of the storage */
} operand;

static inline double op_at(const operand *o, long row, long p) {
  long idx = o->trans ? p * (long)o->ld + row : row * (long)o->ld + p;
  return o->f32 ? (double)((const float *)o->src)[idx] : ((const double *)o->src)[idx];
}

/*
 * Pack rows [r0, r1) × steps [p0, p0 + kl) into panels of `w` rows: panel b, step p, row r at
 * dst[(b * kl + p) * w + r]; rows past r1 are zero.
 */
static void pack(const operand *o, long r0, long r1, long p0, int kl, int w, double *dst) {
  long panels = (r1 - r0 + w - 1) / w;
  for (long b = 0; b < panels; b++) {
    double *out = dst + b * (long)kl * w;
    long rb = r0 + b * w;
    int valid = (int)(r1 - rb < w ? r1 - rb : w);
    if (!o->f32 && !o->trans && valid == w) {
      const double *s = (const double *)o->src + rb * (long)o->ld + p0;
      for (int r = 0; r < w; r++) {
        const double *sr = s + (long)r * o->ld;
        for (int p = 0; p < kl; p++) out[(long)p * w + r] = sr[p];
      }
      continue;
    }
    if (!o->f32 && o->trans && valid == w) {
      const double *s = (const double *)o->src + p0 * (long)o->ld + rb;
      for (int p = 0; p < kl; p++) memcpy(out + (long)p * w, s + (long)p * o->ld, sizeof(double) * (size_t)w);
      continue;
    }
    for (int p = 0; p < kl; p++)
      for (int r = 0; r < w; r++) out[(long)p * w + r] = r < valid ? op_at(o, rb + r, p0 + p) : 0.0;
  }
}

/*
 * One 4×NR tile of C over kl steps, as two 4×8 halves one after the other (16 ymm registers
 * hold one half's accumulators, not the whole tile's); acc: continue the sums already in t.
 */
MULTIVERSION
static void micro4(int kl, const double *restrict ap0, const double *restrict bp0, double *restrict t0, int acc) {
  for (int half = 0; half < NR / 8; half++) {
    const double *ap = ap0, *bp = bp0 + 8 * half;
    double *t = t0 + 8 * half;
    v4d c00, c01, c10, c11, c20, c21, c30, c31;
    if (acc) {
      c00 = loadu(t); c01 = loadu(t + 4); c10 = loadu(t + NR); c11 = loadu(t + NR + 4);
      c20 = loadu(t + 2 * NR); c21 = loadu(t + 2 * NR + 4); c30 = loadu(t + 3 * NR); c31 = loadu(t + 3 * NR + 4);
    } else {
      c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = splat(0.0);
    }
    for (int p = 0; p < kl; p++) {
      const v4d b0 = loadu(bp), b1 = loadu(bp + 4);
      v4d a = splat(ap[0]);
      c00 += a * b0; c01 += a * b1;
      a = splat(ap[1]);
      c10 += a * b0; c11 += a * b1;
      a = splat(ap[2]);
      c20 += a * b0; c21 += a * b1;
      a = splat(ap[3]);
      c30 += a * b0; c31 += a * b1;
      ap += 4;
      bp += NR;
    }
    storeu(t, c00); storeu(t + 4, c01); storeu(t + NR, c10); storeu(t + NR + 4, c11);
    storeu(t + 2 * NR, c20); storeu(t + 2 * NR + 4, c21); storeu(t + 3 * NR, c30); storeu(t + 3 * NR + 4, c31);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
typedef double v8d __attribute__((vector_size(64)));
typedef double v8du __attribute__((vector_size(64), aligned(8)));

/* 8×NR with two 512-bit registers per row (16 accumulators of the 32 registers). */
__attribute__((target("avx512f")))
static void micro8(int kl, const double *restrict ap, const double *restrict bp, double *restrict t, int acc) {
  v8d c[8][NR / 8];
  for (int r = 0; r < 8; r++)
    for (int h = 0; h < NR / 8; h++) c[r][h] = acc ? *(const v8du *)(t + r * NR + 8 * h) : (v8d){0, 0, 0, 0, 0, 0, 0, 0};
  for (int p = 0; p < kl; p++) {
    v8d b[NR / 8];
    for (int h = 0; h < NR / 8; h++) b[h] = *(const v8du *)(bp + 8 * h);
    for (int r = 0; r < 8; r++) {
      const double x = ap[r];
      const v8d a = (v8d){x, x, x, x, x, x, x, x};
      for (int h = 0; h < NR / 8; h++) c[r][h] += a * b[h];
    }
    ap += 8;
    bp += NR;
  }
  for (int r = 0; r < 8; r++)
    for (int h = 0; h < NR / 8; h++) *(v8du *)(t + r * NR + 8 * h) = c[r][h];
}
#endif

typedef void (*micro_fn)(int, const double *, const double *, double *, int);
static micro_fn micro = micro4;
static int MR = 4;

static void pick_micro(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && !getenv("PHENOMAP_NO_AVX512")) {
    micro = micro8;
    MR = 8;
  }
#endif
}

typedef struct {
  operand a;
  const double *bp; /* B packed for columns [j0, j1), all k: chunk c at bp + c·KC·nPanels·NR */
  double *c;
  long ldc, k, j0, j1;
  int sym;
  long i0, i1; /* this thread's rows */
  const double *nrm; /* squared row norms: write squared distances instead of the product */
  struct knn_heaps *knn; /* k-NN mode: finished tiles are offered to these heaps, C is not written */
  double *cscr;          /* k-NN mode with k > KC: this thread's partial sums of one MC-row block */
  long cld;              /* row length of cscr */
} nt_job;

/*
 * Bounded max-heaps of the M best (distance, index) per row, one set per thread (knnGraph.ts's
 * offerNeighbour, the same total order: smaller distance, then smaller index). worst[i] mirrors
 * row i's root, contiguous, so the common case — a pair worse than both rows' current M-th —
 * costs two loads and two compares.
 */
typedef struct knn_heaps {
  long M;
  double *hd;
  int32_t *hi;
  double *worst;
} knn_heaps;

static void knn_offer(knn_heaps *H, long i, double dist, int32_t j) {
  const long M = H->M;
  double *hd = H->hd + i * M;
  int32_t *hi = H->hi + i * M;
  if (!(dist < hd[0] || (dist == hd[0] && j < hi[0]))) return;
  /* sift the new root down (knnGraph.ts siftDown) */
  long p = 0;
  for (;;) {
    const long l = 2 * p + 1;
    if (l >= M) break;
    long c = l;
    const long r = l + 1;
    if (r < M && (hd[l] < hd[r] || (hd[l] == hd[r] && hi[l] < hi[r]))) c = r;
    if (!(dist < hd[c] || (dist == hd[c] && j < hi[c]))) break;
    hd[p] = hd[c];
    hi[p] = hi[c];
    p = c;
  }
  hd[p] = dist;
  hi[p] = j;
  H->worst[i] = hd[0];
}

/* Row r of a finished tile offered to the heaps, pair by pair (j > i only). */
static void knn_tile_row(knn_heaps *H, const double *nrm, const double *t, long i, long r, long jc, long jv) {
  const double *worst = H->worst;
  const double ni = nrm[i];
  const long q0 = jc > i ? 0 : i + 1 - jc;
  for (long q = q0; q < jv; q++) {
    const long j = jc + q;
    double dist = ni + nrm[j] - 2.0 * t[r * NR + q];
    if (dist < 0) dist = 0;
    if (dist <= worst[i]) knn_offer(H, i, dist, (int32_t)j);
    if (dist <= worst[j]) knn_offer(H, j, dist, (int32_t)i);
  }
}

/*
 * A finished Gram tile offered to the heaps: every pair j > i once, to row i's heap and to row
 * j's, at exactKnn's distance (‖xᵢ‖² + ‖xⱼ‖²) − 2g (negative → 0). Most pairs are worse than both
 * rows' current M-th: a full tile above the diagonal first computes a row's sixteen distances as
 * vectors (the same operations lane by lane) and goes through the pairs one by one only when one
 * of them could enter a heap.
 */
MULTIVERSION
static void knn_tile(knn_heaps *H, const double *nrm, const double *t, long ir, long iv, long jc, long jv) {
  if (iv != MR || jv != NR || jc <= ir + iv - 1) {
    for (long r = 0; r < iv; r++) knn_tile_row(H, nrm, t, ir + r, r, jc, jv);
    return;
  }
  const double *worst = H->worst;
  v4d nj[NR / 4];
  for (int h = 0; h < NR / 4; h++) nj[h] = loadu(nrm + jc + 4 * h);
  const v4d two = splat(2.0), zero = splat(0.0);
  for (long r = 0; r < iv; r++) {
    const long i = ir + r;
    const v4d ni = splat(nrm[i]), wi = splat(worst[i]);
    v4l hit = {0, 0, 0, 0};
    for (int h = 0; h < NR / 4; h++) {
      const v4d g = loadu(t + r * NR + 4 * h);
      v4d dd = (ni + nj[h]) - two * g;
      dd = vsel(dd < zero, zero, dd);
      hit |= (dd <= wi) | (dd <= loadu(worst + jc + 4 * h));
    }
    if (hit[0] | hit[1] | hit[2] | hit[3]) knn_tile_row(H, nrm, t, i, r, jc, jv);
  }
}

/* A finished tile of a symmetric product, written on and above the diagonal and mirrored below. */
static void mirror_tile(double *c, long n, const double *t, long ir, long iv, long jc, long jv) {
  for (long r = 0; r < iv; r++) {
    const long i = ir + r;
    for (long q = 0; q < jv; q++) {
      const long j = jc + q;
      if (j < i) continue;
      c[i * n + j] = t[r * NR + q];
      c[j * n + i] = t[r * NR + q];
    }
  }
}

/*
 * A finished Gram tile → squared distances, exactly distance.ts's epilogue for each entry above
 * the diagonal: (i, j) = (−2g + ‖xᵢ‖²) + ‖xⱼ‖² and (j, i) = (−2g + ‖xⱼ‖²) + ‖xᵢ‖², clipped at 0
 * (NaN → 0, as JavaScript's `v > 0 ? v : 0`); the diagonal is 0. Entries below the diagonal are
 * written only as mirrors, so they never meet a partial sum.
 */
static void distance_tile(double *c, long n, const double *nrm, const double *t, long ir, long iv, long jc, long jv) {
  for (long r = 0; r < iv; r++) {
    const long i = ir + r;
    const double ni = nrm[i];
    for (long q = 0; q < jv; q++) {
      const long j = jc + q;
      if (j < i) continue;
      if (j == i) {
        c[i * n + i] = 0.0;
        continue;
      }
      const double m2 = -2.0 * t[r * NR + q], nj = nrm[j];
      const double v = (m2 + ni) + nj, w = (m2 + nj) + ni;
      c[i * n + j] = v > 0 ? v : 0.0;
      c[j * n + i] = w > 0 ? w : 0.0;
    }
  }
}

static void nt_rows(const nt_job *J) {
  const long np = (J->j1 - J->j0 + NR - 1) / NR;
  double t[MR_MAX * NR];
  double abuf[MC * KC] __attribute__((aligned(64))); /* 384 KB: the packed A block, kept in L2 */
  for (long ic = J->i0; ic < J->i1; ic += MC) {
    const long ie = ic + MC < J->i1 ? ic + MC : J->i1;
    for (long p0 = 0; p0 < J->k; p0 += KC) {
      const int kl = (int)(J->k - p0 < KC ? J->k - p0 : KC);
      const double *bchunk = J->bp + p0 * np * NR; /* chunks before this one are KC steps each */
      pack(&J->a, ic, ie, p0, kl, MR, abuf);
      for (long jb = 0; jb < np; jb++) {
        const long jc = J->j0 + jb * NR;
        const long jv = J->j1 - jc < NR ? J->j1 - jc : NR;
        if (J->sym && jc + NR <= ic) continue; /* whole panel left of every row of the block */
        const double *bpan = bchunk + jb * (long)kl * NR;
        for (long ir = ic; ir < ie; ir += MR) {
          if (J->sym && jc + NR <= ir) continue; /* tile entirely below the diagonal */
          const long iv = ie - ir < MR ? ie - ir : MR;
          const long ld = J->knn ? J->cld : J->ldc;
          double *crow = J->knn ? J->cscr + (ir - ic) * ld + (jc - J->j0) : J->c + ir * J->ldc + jc;
          const int acc = p0 > 0;
          if (acc) {
            /* Symmetric products keep partial sums only on and above the diagonal (below it, the
               distance epilogue's mirrored writes may already have landed). */
            for (long r = 0; r < MR; r++)
              for (long q = 0; q < NR; q++)
                t[r * NR + q] = (r < iv && q < jv && !(J->sym && jc + q < ir + r)) ? crow[r * ld + q] : 0.0;
          }
          micro(kl, abuf + ((ir - ic) / MR) * (long)kl * MR, bpan, t, acc);
          if (J->knn && p0 + kl == J->k) {
            knn_tile(J->knn, J->nrm, t, ir, iv, jc, jv);
          } else if (J->knn) {
            for (long r = 0; r < iv; r++) memcpy(crow + r * ld, t + r * NR, sizeof(double) * (size_t)jv);
          } else if (J->nrm && p0 + kl == J->k) {
            distance_tile(J->c, J->ldc, J->nrm, t, ir, iv, jc, jv);
          } else if (J->sym == 2 && p0 + kl == J->k) {
            mirror_tile(J->c, J->ldc, t, ir, iv, jc, jv);
          } else if (J->sym && jc < ir + iv) {
            for (long r = 0; r < iv; r++) {
              const long q0 = ir + r > jc ? ir + r - jc : 0;
              if (q0 < jv) memcpy(crow + r * J->ldc + q0, t + r * NR + q0, sizeof(double) * (size_t)(jv - q0));
            }
          } else {
            for (long r = 0; r < iv; r++) memcpy(crow + r * J->ldc, t + r * NR, sizeof(double) * (size_t)jv);
          }
        }
      }
    }
  }
}

static void nt_task(void *arg) { nt_rows((const nt_job *)arg); }

/*
 * A pool of worker threads, started on first use and parked on a condition variable between
 * calls: starting a thread per call cost more than the work of a 342-row product. One caller at
 * a time (a second JavaScript thread that finds the pool busy runs its product alone).
 */
enum { MAX_THREADS = 8 };
typedef struct {
  void (*fn)(void *);
  void *arg;
} task;

static pthread_mutex_t pool_use = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_go = PTHREAD_COND_INITIALIZER, pool_done = PTHREAD_COND_INITIALIZER;
static task pool_tasks[MAX_THREADS];
static unsigned long pool_gen = 0;
static int pool_workers = 0, pool_pending = 0;

static unsigned long pool_born[MAX_THREADS]; /* generation current when worker w was created */

static void *pool_main(void *arg) {
  const int me = (int)(intptr_t)arg;
  pthread_mutex_lock(&pool_mu);
  /* Not pool_gen as found now: the job that created this worker may already have bumped it. */
  unsigned long seen = pool_born[me];
  for (;;) {
    while (pool_gen == seen) pthread_cond_wait(&pool_go, &pool_mu);
    seen = pool_gen;
    const task t = pool_tasks[me];
    pthread_mutex_unlock(&pool_mu);
    if (t.fn) t.fn(t.arg);
    pthread_mutex_lock(&pool_mu);
    if (--pool_pending == 0) pthread_cond_signal(&pool_done);
  }
  return NULL;
}

/* Run fn(args[t]) for t < T (each args[t] `size` bytes apart): t = 0 here, the rest on the pool. */
static void run_parallel(void (*fn)(void *), void *args, size_t size, int T) {
  if (T > 1 && pthread_mutex_trylock(&pool_use) == 0) {
    pthread_mutex_lock(&pool_mu);
    while (pool_workers < T - 1 && pool_workers < MAX_THREADS - 1) {
      pthread_t tid;
      pool_born[pool_workers + 1] = pool_gen;
      if (pthread_create(&tid, NULL, pool_main, (void *)(intptr_t)(pool_workers + 1)) != 0) break;
      pthread_detach(tid);
      pool_workers++;
    }
    const int used = T - 1 < pool_workers ? T - 1 : pool_workers;
    for (int w = 1; w <= pool_workers; w++)
      pool_tasks[w] = w <= used ? (task){fn, (char *)args + (size_t)w * size} : (task){NULL, NULL};
    pool_pending = pool_workers;
    pool_gen++;
    pthread_cond_broadcast(&pool_go);
    pthread_mutex_unlock(&pool_mu);
    fn(args);
    for (int t = used + 1; t < T; t++) fn((char *)args + (size_t)t * size); /* threads that would not start */
    pthread_mutex_lock(&pool_mu);
    while (pool_pending > 0) pthread_cond_wait(&pool_done, &pool_mu);
    pthread_mutex_unlock(&pool_mu);
    pthread_mutex_unlock(&pool_use);
    return;
  }
  for (int t = 0; t < T; t++) fn((char *)args + (size_t)t * size);
}

/* Row boundaries (multiples of MR) giving each of T threads an equal share of the work. */
static void split_rows(long m, long jlo, long jhi, int sym, int T, long *bounds) {
  bounds[0] = 0;
  bounds[T] = m;
  if (!sym) {
    for (int t = 1; t < T; t++) bounds[t] = ((m * t / T) / MR) * MR;
    return;
  }
  /* Symmetric: row i costs the columns j ≥ i in [jlo, jhi). */
  double total = 0;
  for (long i = 0; i < m; i++) total += (double)(jhi - (i > jlo ? i : jlo) > 0 ? jhi - (i > jlo ? i : jlo) : 0);
  double run = 0;
  int t = 1;
  for (long i = 0; i < m && t < T; i++) {
    run += (double)(jhi - (i > jlo ? i : jlo) > 0 ? jhi - (i > jlo ? i : jlo) : 0);
    if (run >= total * t / T) bounds[t++] = ((i + 1 + MR - 1) / MR) * MR < m ? ((i + 1 + MR - 1) / MR) * MR : m;
  }
  for (; t < T; t++) bounds[t] = m;
}

static _Thread_local double *tl_bbuf = NULL;
static _Thread_local size_t tl_bcap = 0;

/* Returns 0 on allocation failure (nothing computed). */
static int nt_compute(operand A, operand B, double *c, long m, long n, long k, long ldc, int sym, int threads, const double *nrm,
                      knn_heaps *knn) {
  if (m == 0 || n == 0) return 1;
  if (k == 0) {
    for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(double) * (size_t)n);
    return 1;
  }
  /* Column blocks small enough that packed B (all k) stays under 8 MB. */
  long nc = (1L << 20) / k;
  nc = nc < NR ? NR : (nc / NR) * NR;
  const long need = ((n < nc ? n : nc) + NR) * k;
  if ((size_t)need > tl_bcap) {
    free(tl_bbuf);
    tl_bcap = 0;
    if (!(tl_bbuf = malloc(sizeof(double) * (size_t)need))) return 0;
    tl_bcap = (size_t)need;
    advise_huge(tl_bbuf, sizeof(double) * (size_t)need);
  }
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  /* k-NN mode over several k chunks: each thread's partial sums of one row block × column block. */
  double *cscr = NULL;
  const long cld = ((n < nc ? n : nc) + NR - 1) / NR * NR;
  if (knn && k > KC && !(cscr = malloc(sizeof(double) * (size_t)(threads * MC * cld)))) return 0;
  for (long j0 = 0; j0 < n; j0 += nc) {
    const long j1 = j0 + nc < n ? j0 + nc : n;
    const long np = (j1 - j0 + NR - 1) / NR;
    for (long p0 = 0; p0 < k; p0 += KC) {
      const int kl = (int)(k - p0 < KC ? k - p0 : KC);
      pack(&B, j0, j1, p0, kl, NR, tl_bbuf + p0 * np * NR);
    }
    const long mrows = sym ? (j1 < m ? j1 : m) : m; /* symmetric: rows below the block are mirrored */
    int T = threads;
    if ((long)T * MR > mrows) T = (int)(mrows / MR) > 0 ? (int)(mrows / MR) : 1;
    long bounds[9];
    split_rows(mrows, j0, j1, sym, T, bounds);
    nt_job jobs[MAX_THREADS];
    for (int t = 0; t < T; t++) jobs[t] = (nt_job){A, tl_bbuf, c, ldc, k, j0, j1, sym, bounds[t], bounds[t + 1], nrm,
                                              knn ? knn + t : NULL, cscr ? cscr + (long)t * MC * cld : NULL, cld};
    run_parallel(nt_task, jobs, sizeof(nt_job), T);
  }
  free(cscr);
  return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* C = A·Bᵀ in float32 arithmetic                                                               */
/* ------------------------------------------------------------------------------------------ */

/*
 * The randomized PCA's range finder needs only a subspace, re-orthonormalised at every step, so
 * its products run in float32: 16 lanes per 512-bit register instead of 8. Every operand value is
 * (float)(stored − shift[storage column]) (shift may be NULL; centring here costs nothing and
 * avoids cancellation), every product and every partial sum is rounded to float32, and each C
 * entry is the sum over p in p order from +0 — blas.ts's ntKernelF32 does the same with
 * Math.fround (a double product or sum of two floats rounded once to float32 equals the float32
 * operation: 53 ≥ 2·24 + 2 bits). C is stored widened to double.
 */
/* KCF: a float A block of MC × KCF is 384 KB, as the double one of MC × KC. */
enum { NRF = 32, KCF = 2 * KC };
typedef float v16f __attribute__((vector_size(64)));
typedef float v16fu __attribute__((vector_size(64), aligned(4)));

static inline float opf_at(const operand *o, const double *shift, long row, long p) {
  const long idx = o->trans ? p * (long)o->ld + row : row * (long)o->ld + p;
  double v = o->f32 ? (double)((const float *)o->src)[idx] : ((const double *)o->src)[idx];
  if (shift) v -= shift[o->trans ? row : p];
  return (float)v;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
typedef float v8f __attribute__((vector_size(32)));
typedef float v8fu __attribute__((vector_size(32), aligned(4)));
typedef int v8i __attribute__((vector_size(32)));

/* out[8·i + r] = r[r][i]: the 8 × 8 transpose in three rounds of two-source shuffles. */
__attribute__((target("avx512f")))
static inline void transpose8_store(v8f *r, float *out) {
  const v8i m1a = {0, 8, 2, 10, 4, 12, 6, 14}, m1b = {1, 9, 3, 11, 5, 13, 7, 15};
  const v8i m2a = {0, 1, 8, 9, 4, 5, 12, 13}, m2b = {2, 3, 10, 11, 6, 7, 14, 15};
  const v8i m3a = {0, 1, 2, 3, 8, 9, 10, 11}, m3b = {4, 5, 6, 7, 12, 13, 14, 15};
  v8f t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shuffle(r[i], r[i + 1], m1a);
    t[i + 1] = __builtin_shuffle(r[i], r[i + 1], m1b);
  }
  for (int i = 0; i < 8; i += 4)
    for (int j = 0; j < 2; j++) {
      r[i + j] = __builtin_shuffle(t[i + j], t[i + j + 2], m2a);
      r[i + j + 2] = __builtin_shuffle(t[i + j], t[i + j + 2], m2b);
    }
  for (int j = 0; j < 4; j++) {
    t[j] = __builtin_shuffle(r[j], r[j + 4], m3a);
    t[j + 4] = __builtin_shuffle(r[j], r[j + 4], m3b);
  }
  for (int i = 0; i < 8; i++) *(v8fu *)(out + 8 * i) = t[i];
}

/*
 * pack_f32 for a full 8-row panel of a row-major operand (the AVX-512 kernel's A): 8 × 8 blocks
 * centred, rounded and transposed in registers instead of one strided store per value. The same
 * values as the scalar loop: (float)(x − shift) per entry (x − 0 = x when there is no shift).
 */
__attribute__((target("avx512f")))
static int pack8_rows(const operand *o, const double *shift, long rb, long p0, int kl, float *out) {
  int p = 0;
  for (; p + 8 <= kl; p += 8) {
    const v8d s = shift ? *(const v8du *)(shift + p0 + p) : (v8d){0, 0, 0, 0, 0, 0, 0, 0};
    v8f r[8];
    if (o->f32) {
      const float *src = (const float *)o->src + rb * (long)o->ld + p0 + p;
      for (int i = 0; i < 8; i++)
        r[i] = __builtin_convertvector(__builtin_convertvector(*(const v8fu *)(src + i * (long)o->ld), v8d) - s, v8f);
    } else {
      const double *src = (const double *)o->src + rb * (long)o->ld + p0 + p;
      for (int i = 0; i < 8; i++) r[i] = __builtin_convertvector(*(const v8du *)(src + i * (long)o->ld) - s, v8f);
    }
    transpose8_store(r, out + (long)p * 8);
  }
  return p;
}

/* pack_f32 for 8-row panels of an operand stored transposed: each step's 8 values are contiguous. */
__attribute__((target("avx512f")))
static void pack8_trans(const operand *o, const double *shift, long r0, long panels, long p0, int kl, float *dst) {
  for (long b = 0; b < panels; b++) {
    float *out = dst + b * (long)kl * 8;
    const v8d h = shift ? *(const v8du *)(shift + r0 + b * 8) : (v8d){0, 0, 0, 0, 0, 0, 0, 0};
    if (o->f32) {
      const float *s = (const float *)o->src + p0 * (long)o->ld + r0 + b * 8;
      for (int p = 0; p < kl; p++)
        *(v8fu *)(out + (long)p * 8) = __builtin_convertvector(__builtin_convertvector(*(const v8fu *)(s + (long)p * o->ld), v8d) - h, v8f);
    } else {
      const double *s = (const double *)o->src + p0 * (long)o->ld + r0 + b * 8;
      for (int p = 0; p < kl; p++) *(v8fu *)(out + (long)p * 8) = __builtin_convertvector(*(const v8du *)(s + (long)p * o->ld) - h, v8f);
    }
  }
}
#endif

static void pack_f32(const operand *o, const double *shift, long r0, long r1, long p0, int kl, int w, float *dst) {
  const long panels = (r1 - r0 + w - 1) / w;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (o->trans && w == 8 && MR == 8 && (r1 - r0) % 8 == 0) {
    pack8_trans(o, shift, r0, panels, p0, kl, dst);
    return;
  }
#endif
  for (long b = 0; b < panels; b++) {
    float *out = dst + b * (long)kl * w;
    const long rb = r0 + b * w;
    const int valid = (int)(r1 - rb < w ? r1 - rb : w);
    int pv = 0; /* steps already packed by the vector path */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (w == 8 && valid == 8 && !o->trans && MR == 8) pv = pack8_rows(o, shift, rb, p0, kl, out);
#endif
    if (!o->f32 && !o->trans) {
      const double *s = (const double *)o->src + rb * (long)o->ld + p0;
      for (int r = 0; r < w; r++) {
        if (r >= valid) {
          for (int p = 0; p < kl; p++) out[(long)p * w + r] = 0.0f;
          continue;
        }
        const double *sr = s + (long)r * o->ld;
        if (shift)
          for (int p = pv; p < kl; p++) out[(long)p * w + r] = (float)(sr[p] - shift[p0 + p]);
        else
          for (int p = pv; p < kl; p++) out[(long)p * w + r] = (float)sr[p];
      }
      continue;
    }
    if (!o->f32 && o->trans && valid == w) {
      const double *s = (const double *)o->src + p0 * (long)o->ld + rb;
      for (int p = 0; p < kl; p++) {
        const double *sp = s + (long)p * o->ld;
        float *op = out + (long)p * w;
        if (shift)
          for (int r = 0; r < w; r++) op[r] = (float)(sp[r] - shift[rb + r]);
        else
          for (int r = 0; r < w; r++) op[r] = (float)sp[r];
      }
      continue;
    }
    if (o->f32 && !o->trans) {
      const float *s = (const float *)o->src + rb * (long)o->ld + p0;
      for (int r = 0; r < w; r++) {
        if (r >= valid) {
          for (int p = 0; p < kl; p++) out[(long)p * w + r] = 0.0f;
          continue;
        }
        const float *sr = s + (long)r * o->ld;
        if (shift)
          for (int p = pv; p < kl; p++) out[(long)p * w + r] = (float)((double)sr[p] - shift[p0 + p]);
        else
          for (int p = pv; p < kl; p++) out[(long)p * w + r] = sr[p];
      }
      continue;
    }
    if (o->f32 && o->trans && valid == w) {
      const float *s = (const float *)o->src + p0 * (long)o->ld + rb;
      for (int p = 0; p < kl; p++) {
        const float *sp = s + (long)p * o->ld;
        float *op = out + (long)p * w;
        if (shift)
          for (int r = 0; r < w; r++) op[r] = (float)((double)sp[r] - shift[rb + r]);
        else
          memcpy(op, sp, sizeof(float) * (size_t)w);
      }
      continue;
    }
    for (int p = 0; p < kl; p++)
      for (int r = 0; r < w; r++) out[(long)p * w + r] = r < valid ? opf_at(o, shift, rb + r, p0 + p) : 0.0f;
  }
}

/* One 4×NRF tile over kl steps, as two 4×16 halves (the AVX2 / generic kernel). */
MULTIVERSION
static void micro4f(int kl, const float *restrict ap0, const float *restrict bp0, float *restrict t0, int acc) {
  for (int half = 0; half < NRF / 16; half++) {
    const float *ap = ap0, *bp = bp0 + 16 * half;
    float *t = t0 + 16 * half;
    v16f c0, c1, c2, c3;
    if (acc) {
      c0 = *(const v16fu *)t; c1 = *(const v16fu *)(t + NRF); c2 = *(const v16fu *)(t + 2 * NRF); c3 = *(const v16fu *)(t + 3 * NRF);
    } else {
      c0 = c1 = c2 = c3 = (v16f){0};
    }
    for (int p = 0; p < kl; p++) {
      const v16f b = *(const v16fu *)bp;
      c0 += ap[0] * b;
      c1 += ap[1] * b;
      c2 += ap[2] * b;
      c3 += ap[3] * b;
      ap += 4;
      bp += NRF;
    }
    *(v16fu *)t = c0; *(v16fu *)(t + NRF) = c1; *(v16fu *)(t + 2 * NRF) = c2; *(v16fu *)(t + 3 * NRF) = c3;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* 8×NRF with two 512-bit registers per row (16 accumulators). */
__attribute__((target("avx512f")))
static void micro8f(int kl, const float *restrict ap, const float *restrict bp, float *restrict t, int acc) {
  v16f c[8][NRF / 16];
  for (int r = 0; r < 8; r++)
    for (int h = 0; h < NRF / 16; h++) c[r][h] = acc ? *(const v16fu *)(t + r * NRF + 16 * h) : (v16f){0};
  for (int p = 0; p < kl; p++) {
    v16f b[NRF / 16];
    for (int h = 0; h < NRF / 16; h++) b[h] = *(const v16fu *)(bp + 16 * h);
    for (int r = 0; r < 8; r++) {
      const float x = ap[r];
      for (int h = 0; h < NRF / 16; h++) c[r][h] += x * b[h];
    }
    ap += 8;
    bp += NRF;
  }
  for (int r = 0; r < 8; r++)
    for (int h = 0; h < NRF / 16; h++) *(v16fu *)(t + r * NRF + 16 * h) = c[r][h];
}
#endif

typedef void (*microf_fn)(int, const float *, const float *, float *, int);

/* The float kernel of the width pick_micro chose (MR rows per tile). */
static microf_fn pick_microf(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (MR == 8) return micro8f;
#endif
  return micro4f;
}

typedef struct {
  operand a;
  const double *shift;
  const float *bp;
  double *c;
  long ldc, k, j0, j1;
  long i0, i1;
  int ct; /* C stored transposed: entry (i, j) at c[j * ldc + i] */
  int sym; /* A = B: only tiles reaching the diagonal or above, each entry j > i also written at (j, i) */
  long p0; /* the k chunk [p0, p0 + kl) whose B panels bp holds */
  int kl;
} ntf_job;

static void ntf_rows(const ntf_job *J) {
  const long np = (J->j1 - J->j0 + NRF - 1) / NRF;
  float t[MR_MAX * NRF] __attribute__((aligned(64)));
  float abuf[MC * KCF] __attribute__((aligned(64)));
  const microf_fn microf = pick_microf();
  for (long ic = J->i0; ic < J->i1; ic += MC) {
    const long ie = ic + MC < J->i1 ? ic + MC : J->i1;
    {
      const long p0 = J->p0;
      const int kl = J->kl;
      const float *bchunk = J->bp;
      pack_f32(&J->a, J->shift, ic, ie, p0, kl, MR, abuf);
      for (long jb = 0; jb < np; jb++) {
        const long jc = J->j0 + jb * NRF;
        const long jv = J->j1 - jc < NRF ? J->j1 - jc : NRF;
        const float *bpan = bchunk + jb * (long)kl * NRF;
        for (long ir = ic; ir < ie; ir += MR) {
          const long iv = ie - ir < MR ? ie - ir : MR;
          const int acc = p0 > 0;
          if (J->sym) {
            if (jc + NRF <= ir) continue; /* tile entirely below the diagonal: mirrored from above */
            double *crow = J->c + ir * J->ldc + jc;
            /* Entries below the diagonal are not kept between k chunks: they restart from 0 (and are dropped). */
            if (acc)
              for (long r = 0; r < MR; r++)
                for (long q = 0; q < NRF; q++) t[r * NRF + q] = (r < iv && q < jv && jc + q >= ir + r) ? (float)crow[r * J->ldc + q] : 0.0f;
            microf(kl, abuf + ((ir - ic) / MR) * (long)kl * MR, bpan, t, acc);
            const int last = p0 + kl == J->k;
            for (long r = 0; r < iv; r++)
              for (long q = 0; q < jv; q++) {
                const long i = ir + r, j = jc + q;
                if (j < i) continue;
                crow[r * J->ldc + q] = (double)t[r * NRF + q];
                if (last && j > i) J->c[j * J->ldc + i] = (double)t[r * NRF + q];
              }
            continue;
          }
          if (J->ct) {
            double *ccol = J->c + jc * J->ldc + ir;
            if (acc)
              for (long r = 0; r < MR; r++)
                for (long q = 0; q < NRF; q++) t[r * NRF + q] = (r < iv && q < jv) ? (float)ccol[q * J->ldc + r] : 0.0f;
            microf(kl, abuf + ((ir - ic) / MR) * (long)kl * MR, bpan, t, acc);
            for (long q = 0; q < jv; q++)
              for (long r = 0; r < iv; r++) ccol[q * J->ldc + r] = (double)t[r * NRF + q];
            continue;
          }
          double *crow = J->c + ir * J->ldc + jc;
          const int full = iv == MR && jv == NRF;
          if (acc) { /* the partial sums are floats stored as doubles: the round trip is exact */
            if (full)
              for (long r = 0; r < MR; r++)
                for (long q = 0; q < NRF; q++) t[r * NRF + q] = (float)crow[r * J->ldc + q];
            else
              for (long r = 0; r < MR; r++)
                for (long q = 0; q < NRF; q++) t[r * NRF + q] = (r < iv && q < jv) ? (float)crow[r * J->ldc + q] : 0.0f;
          }
          microf(kl, abuf + ((ir - ic) / MR) * (long)kl * MR, bpan, t, acc);
          if (full)
            for (long r = 0; r < MR; r++)
              for (long q = 0; q < NRF; q++) crow[r * J->ldc + q] = (double)t[r * NRF + q];
          else
            for (long r = 0; r < iv; r++)
              for (long q = 0; q < jv; q++) crow[r * J->ldc + q] = (double)t[r * NRF + q];
        }
      }
    }
  }
}

static void ntf_task(void *arg) { ntf_rows((const ntf_job *)arg); }

static _Thread_local float *tl_fbuf = NULL;
static _Thread_local size_t tl_fcap = 0;

static int ntf_compute(operand A, const double *shiftA, operand B, const double *shiftB, double *c, long m, long n, long k,
                       long ldc, int ct, int sym, int threads) {
  if (m == 0 || n == 0) return 1;
  if (k == 0) {
    for (long i = 0; i < (ct ? n : m); i++) memset(c + i * ldc, 0, sizeof(double) * (size_t)(ct ? m : n));
    return 1;
  }
  /* B is packed one k chunk at a time (all its columns of the block, up to 8 MB), every thread's
     rows then run over that chunk: the buffer stays at one chunk's size (a 384 × 5,792 Gram
     matrix packed whole was 9 MB of fresh pages on the first call, as much as the arithmetic). */
  const long kc = k < KCF ? k : KCF;
  long nc = (1L << 21) / kc;
  nc = nc < NRF ? NRF : (nc / NRF) * NRF;
  const long need = ((n < nc ? n : nc) + NRF) * kc;
  if ((size_t)need > tl_fcap) {
    free(tl_fbuf);
    tl_fbuf = NULL;
    tl_fcap = 0;
    /* Whole 2 MiB pages, on a 2 MiB boundary, asked to be huge: a fresh buffer then costs a few
       faults instead of one per 4 KiB page (≈ 13 µs each on this VM) on the first product. */
    const size_t H = (size_t)1 << 21, bytes = (sizeof(float) * (size_t)need + H - 1) & ~(H - 1);
    void *p = NULL;
    if (posix_memalign(&p, H, bytes) != 0) return 0;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    tl_fbuf = p;
    tl_fcap = bytes / sizeof(float);
  }
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  for (long j0 = 0; j0 < n; j0 += nc) {
    const long j1 = j0 + nc < n ? j0 + nc : n;
    const long mrows = sym ? (j1 < m ? j1 : m) : m; /* symmetric: rows below the block are mirrored */
    int T = threads;
    if ((long)T * MR > mrows) T = (int)(mrows / MR) > 0 ? (int)(mrows / MR) : 1;
    long bounds[9];
    split_rows(mrows, j0, j1, sym, T, bounds);
    for (long p0 = 0; p0 < k; p0 += KCF) {
      const int kl = (int)(k - p0 < KCF ? k - p0 : KCF);
      pack_f32(&B, shiftB, j0, j1, p0, kl, NRF, tl_fbuf);
      ntf_job jobs[MAX_THREADS];
      for (int t = 0; t < T; t++) jobs[t] = (ntf_job){A, shiftA, tl_fbuf, c, ldc, k, j0, j1, bounds[t], bounds[t + 1], ct, sym, p0, kl};
      run_parallel(ntf_task, jobs, sizeof(ntf_job), T);
    }
  }
  return 1;
}

/*
 * Σₚ x[i][p]² for each row, summed in p order from +0. Eight rows at a time: eight independent
 * add chains instead of one (a single chain waits on the adder's latency at every step).
 */
static void row_sq_norms(const void *x, int f32, long n, long k, double *nrm) {
  long i = 0;
  if (!f32) {
    for (; i + 8 <= n; i += 8) {
      const double *r = (const double *)x + i * k;
      double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (long p = 0; p < k; p++)
        for (int q = 0; q < 8; q++) {
          const double v = r[q * k + p];
          s[q] += v * v;
        }
      for (int q = 0; q < 8; q++) nrm[i + q] = s[q];
    }
  }
  for (; i < n; i++) {
    double s = 0.0;
    for (long p = 0; p < k; p++) {
      const double v = f32 ? (double)((const float *)x)[i * k + p] : ((const double *)x)[i * k + p];
      s += v * v;
    }
    nrm[i] = s;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* k-NN candidates: exact squared distances (cluster/knnGraph.ts finish)                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const void *x;
  int f32;
  long d, stride, r0, r1;
  const int32_t *cand;
  double *out;
} cand_job;

/*
 * For each row i in [r0, r1) and slot t: out[i·stride + t] = Σ_c (x_i[c] − x_j[c])² with
 * j = cand[i·stride + t] (slots with j < 0 are left alone), summed in c order from +0 in float64
 * (float32 storage widened), as finish's loop. Four candidates at a time: four independent chains
 * over the same x_i values.
 */
static void cand_rows(const cand_job *J) {
  const long d = J->d;
  for (long i = J->r0; i < J->r1; i++) {
    const int32_t *ci = J->cand + i * J->stride;
    double *oi = J->out + i * J->stride;
    long t = 0;
    int32_t js[4];
    long ts[4];
    int q = 0;
    for (; t <= J->stride; t++) {
      if (t < J->stride) {
        if (ci[t] < 0) continue;
        js[q] = ci[t];
        ts[q++] = t;
        if (q < 4) continue;
      }
      if (q == 0) break;
      double s[4] = {0.0, 0.0, 0.0, 0.0};
      if (J->f32) {
        const float *xi = (const float *)J->x + i * d;
        const float *xj[4];
        for (int u = 0; u < 4; u++) xj[u] = (const float *)J->x + (long)js[u < q ? u : 0] * d;
        for (long c = 0; c < d; c++) {
          const double a = (double)xi[c];
          for (int u = 0; u < 4; u++) {
            const double z = a - (double)xj[u][c];
            s[u] += z * z;
          }
        }
      } else {
        const double *xi = (const double *)J->x + i * d;
        const double *xj[4];
        for (int u = 0; u < 4; u++) xj[u] = (const double *)J->x + (long)js[u < q ? u : 0] * d;
        for (long c = 0; c < d; c++) {
          const double a = xi[c];
          for (int u = 0; u < 4; u++) {
            const double z = a - xj[u][c];
            s[u] += z * z;
          }
        }
      }
      for (int u = 0; u < q; u++) oi[ts[u]] = s[u];
      q = 0;
    }
  }
}

static void cand_task(void *arg) { cand_rows((const cand_job *)arg); }

/* ------------------------------------------------------------------------------------------ */
/* Column passes of z-scoring (linalg/columnStats.ts)                                           */
/* ------------------------------------------------------------------------------------------ */

/*
 * One body for float64 and float32 storage: values are widened to double on load and every sum is
 * double, as the JavaScript loops do on a Float32Array, so both storages agree with their JS paths
 * bit for bit; float32 output is the double quotient rounded once on store (a Float32Array write).
 */
#define COL_MOMENTS_BODY(T)                                                                      \
  for (long j = 0; j < d; j++) {                                                                 \
    sum[j] = res[j] = ss[j] = 0.0;                                                               \
    varies[j] = 0;                                                                               \
  }                                                                                              \
  for (long i = 0; i < n; i++) {                                                                 \
    const T *row = x + i * d;                                                                    \
    for (long j = 0; j < d; j++) {                                                               \
      const double v = (double)row[j];                                                           \
      sum[j] += v;                                                                               \
      varies[j] |= (uint8_t)(v != (double)x[j]); /* NaN differs from everything, as in JS */     \
    }                                                                                            \
  }                                                                                              \
  for (long j = 0; j < d; j++) mean0[j] = sum[j] / (double)n;                                    \
  for (long i = 0; i < n; i++) {                                                                 \
    const T *row = x + i * d;                                                                    \
    for (long j = 0; j < d; j++) {                                                               \
      const double t = (double)row[j] - mean0[j];                                                \
      res[j] += t;                                                                               \
      ss[j] += t * t;                                                                            \
    }                                                                                            \
  }

MULTIVERSION
static void col_moments(const double *restrict x, long n, long d, double *restrict sum, uint8_t *restrict varies,
                        double *restrict mean0, double *restrict res, double *restrict ss) {
  COL_MOMENTS_BODY(double)
}

MULTIVERSION
static void col_moments_f32(const float *restrict x, long n, long d, double *restrict sum, uint8_t *restrict varies,
                            double *restrict mean0, double *restrict res, double *restrict ss) {
  COL_MOMENTS_BODY(float)
}

/*
 * Column means and centred sums of squares in one pass (Welford's update, the weight 1/(i + 1)
 * once per row so a row's columns vectorise): the float32 Gram solver of PCA needs no more, and
 * a second pass over a 384 × 5,792 table costs a millisecond. columnStats.ts columnMeanM2's twin.
 */
#define COL_WELFORD_BODY(T)                                                                      \
  for (long j = 0; j < d; j++) mean[j] = m2[j] = 0.0;                                            \
  for (long i = 0; i < n; i++) {                                                                 \
    const T *row = x + i * d;                                                                    \
    const double w = 1.0 / (double)(i + 1);                                                      \
    for (long j = 0; j < d; j++) {                                                               \
      const double v = (double)row[j];                                                           \
      const double delta = v - mean[j];                                                          \
      const double mu = mean[j] + delta * w;                                                     \
      mean[j] = mu;                                                                              \
      m2[j] += delta * (v - mu);                                                                 \
    }                                                                                            \
  }

MULTIVERSION
static void col_welford(const double *restrict x, long n, long d, double *restrict mean, double *restrict m2) {
  COL_WELFORD_BODY(double)
}

MULTIVERSION
static void col_welford_f32(const float *restrict x, long n, long d, double *restrict mean, double *restrict m2) {
  COL_WELFORD_BODY(float)
}

/* Compacting (possibly in place): each write lands at or before a value not yet read. */
#define COL_STANDARDIZE_BODY(T)                                                                  \
  if (k == d && out == x) {                                                                      \
    for (long i = 0; i < n; i++) {                                                               \
      T *restrict row = x + i * d;                                                               \
      for (long j = 0; j < d; j++) row[j] = (T)(((double)row[j] - mean[j]) / sd[j]);             \
    }                                                                                            \
    return;                                                                                      \
  }                                                                                              \
  for (long i = 0; i < n; i++) {                                                                 \
    const T *row = x + i * d;                                                                    \
    T *o = out + i * k;                                                                          \
    for (long c = 0; c < k; c++) o[c] = (T)(((double)row[kept[c]] - mean[c]) / sd[c]);          \
  }

MULTIVERSION
static void col_standardize(double *x, long n, long d, const int32_t *kept, long k, const double *restrict mean,
                            const double *restrict sd, double *out) {
  COL_STANDARDIZE_BODY(double)
}

MULTIVERSION
static void col_standardize_f32(float *x, long n, long d, const int32_t *kept, long k, const double *restrict mean,
                                const double *restrict sd, float *out) {
  COL_STANDARDIZE_BODY(float)
}

/* out = x − 1·meanᵀ (n × d, row-major); returns Σ out², summed in storage order (svd.ts's centring). */
MULTIVERSION
static double center_rows(const double *restrict x, long n, long d, const double *restrict mean, double *restrict out) {
  for (long i = 0; i < n; i++)
    for (long j = 0; j < d; j++) out[i * d + j] = x[i * d + j] - mean[j];
  double ss = 0;
  for (long t = 0; t < n * d; t++) ss += out[t] * out[t];
  return ss;
}

/* ------------------------------------------------------------------------------------------ */
/* Symmetric eigen (linalg/eigen.ts): tred2 on the row-major working matrix, QL rotations,      */
/* Householder back-transformation                                                              */
/* ------------------------------------------------------------------------------------------ */

/*
 * The end of tred_symv's row: the steps from k to `end` left after the four-lane loop (two, then
 * one, as the JavaScript twin takes them) and the lanes summed in its order. Returns the row's dot.
 */
static inline double symv_tail(const double *rj, const double *d, double *e, double f, long k, long end, v4d acc) {
  double a0 = acc[0], a1 = acc[1];
  if (k + 1 < end) {
    const double v0 = rj[k], v1 = rj[k + 1];
    a0 += v0 * d[k];
    a1 += v1 * d[k + 1];
    e[k] += v0 * f;
    e[k + 1] += v1 * f;
    k += 2;
  }
  double t = (a0 + acc[2]) + (a1 + acc[3]);
  if (k < end) {
    const double v = rj[k];
    t += v * d[k];
    e[k] += v * f;
  }
  return t;
}

MULTIVERSION
static void tred_symv(const double *restrict w, const double *restrict d, double *restrict e, long n, long i) {
  for (long j = 0; j < i; j++) {
    const double f = d[j];
    const double *rj = w + j * n;
    const double g = e[j] + rj[j] * f;
    const v4d fv = splat(f);
    v4d acc = splat(0.0);
    long k = j + 1;
    for (; k + 3 < i; k += 4) {
      const v4d v = loadu(rj + k);
      acc += v * loadu(d + k);
      storeu(e + k, loadu(e + k) + v * fv);
    }
    e[j] = g + symv_tail(rj, d, e, f, k, i, acc);
  }
}

MULTIVERSION
static void tred_rank2(double *restrict w, double *restrict d, const double *restrict e, long n, long i) {
  for (long j = 0; j < i; j++) {
    const double f = d[j], g = e[j];
    double *rj = w + j * n;
    for (long k = j; k <= i - 1; k++) rj[k] -= f * e[k] + g * d[k];
    d[j] = rj[i - 1];
    rj[i] = 0.0;
  }
}

/*
 * Step i's rank-2 update fused with step i − 1's symmetric product, in one pass over the rows:
 * row j is updated (tred_rank2 with d0, e0: step i's vectors, kept aside) and, while it is in
 * cache, read by the next step's product (tred_symv for i − 1 with d, e: step i − 1's Householder
 * vector, already formed from the updated column i − 1). Every value is computed by the operations
 * of the unfused pair in the same order — rows in increasing j, the four partial sums of
 * tred_symv — so the result is bit for bit that of tred_rank2 then tred_symv (and of eigen.ts's
 * JavaScript loops); only the matrix is streamed once instead of three times.
 */
MULTIVERSION
static void tred_rank2_symv(double *restrict w, const double *restrict d0, const double *restrict e0, const double *restrict d,
                            double *restrict e, long n, long i) {
  const long i1 = i - 1;
  for (long j = 0; j < i; j++) {
    const double f0 = d0[j], g0 = e0[j];
    double *rj = w + j * n;
    if (j == i1) {
      rj[j] -= f0 * e0[j] + g0 * d0[j];
      rj[i] = 0.0;
      continue;
    }
    rj[j] -= f0 * e0[j] + g0 * d0[j];
    const double f = d[j];
    const double g = e[j] + rj[j] * f;
    const v4d f0v = splat(f0), g0v = splat(g0), fv = splat(f);
    v4d acc = splat(0.0);
    long k = j + 1;
    for (; k + 3 < i1; k += 4) {
      const v4d v = loadu(rj + k) - (f0v * loadu(e0 + k) + g0v * loadu(d0 + k));
      storeu(rj + k, v);
      acc += v * loadu(d + k);
      storeu(e + k, loadu(e + k) + v * fv);
    }
    for (long q = k; q <= i1; q++) rj[q] -= f0 * e0[q] + g0 * d0[q];
    rj[i] = 0.0;
    e[j] = g + symv_tail(rj, d, e, f, k, i1, acc);
  }
}

/*
 * Step i's Householder vector from d[0..i) (column i − 1 of the working matrix): eigen.ts's
 * scaling, h, e[i] and u in d and in row i of w. Returns h (scale must be > 0).
 */
static double tred_house(double *w, double *d, double *e, long n, long i, double scale) {
  double h = 0.0;
  for (long k = 0; k < i; k++) {
    d[k] /= scale;
    h += d[k] * d[k];
  }
  const double f = d[i - 1];
  double g = sqrt(h);
  if (f > 0) g = -g;
  e[i] = scale * g;
  h -= f * g;
  d[i - 1] = f - g;
  for (long j = 0; j < i; j++) e[j] = 0.0;
  for (long j = 0; j < i; j++) w[i * n + j] = d[j];
  return h;
}

/*
 * The whole of eigen.ts's tridiagonalize loop (its scalar steps too, in the same order). Step i's
 * rank-2 update and step i − 1's product run as one pass (tred_rank2_symv): step i − 1's vector
 * needs only column i − 1 of the updated matrix, computed first by the update's own expression.
 * d0, e0: n values of scratch each.
 */
static void tred2(double *w, double *d, double *e, long n, double *d0, double *e0) {
  for (long j = 0; j < n; j++) d[j] = w[j * n + (n - 1)];
  int ready = 0; /* step i's vector and product were formed by step i + 1's fused pass */
  double readyH = 0.0;
  for (long i = n - 1; i > 0; i--) {
    double h = 0.0;
    if (ready) {
      h = readyH;
      ready = 0;
    } else {
      double scale = 0.0;
      for (long k = 0; k < i; k++) scale += fabs(d[k]);
      if (scale == 0.0) {
        e[i] = d[i - 1];
        for (long j = 0; j < i; j++) {
          d[j] = w[j * n + (i - 1)];
          w[j * n + i] = 0.0;
          w[i * n + j] = 0.0;
        }
        d[i] = h;
        continue;
      }
      h = tred_house(w, d, e, n, i, scale);
      tred_symv(w, d, e, n, i);
    }
    double f = 0.0;
    for (long j = 0; j < i; j++) {
      e[j] /= h;
      f += e[j] * d[j];
    }
    const double hh = f / (h + h);
    for (long j = 0; j < i; j++) e[j] -= hh * d[j];
    if (i > 1) {
      /* Step i − 1's column: what tred_rank2 would leave in d. */
      memcpy(d0, d, (size_t)i * sizeof(double));
      memcpy(e0, e, (size_t)i * sizeof(double));
      for (long j = 0; j < i; j++) d[j] = w[j * n + (i - 1)] - (d0[j] * e0[i - 1] + e0[j] * d0[i - 1]);
      d[i] = h;
      double scale = 0.0;
      for (long k = 0; k < i - 1; k++) scale += fabs(d[k]);
      if (scale == 0.0) {
        tred_rank2(w, d0, e0, n, i); /* step i − 1 takes the zero branch on the updated matrix */
        continue;
      }
      readyH = tred_house(w, d, e, n, i - 1, scale);
      tred_rank2_symv(w, d0, e0, d, e, n, i);
      ready = 1;
      continue;
    }
    tred_rank2(w, d, e, n, i);
    d[i] = h;
  }
}

MULTIVERSION
static void rotate_rows(double *z, long n, long l, long m, const double *cs) {
  for (long i = m - 1; i >= l; i--) {
    const v4d c = splat(cs[2 * i]), s = splat(cs[2 * i + 1]);
    double *restrict ri = z + i * n;
    double *restrict ri1 = ri + n;
    long k = 0;
    for (; k + 3 < n; k += 4) {
      const v4d zh = loadu(ri1 + k), zi = loadu(ri + k);
      storeu(ri1 + k, s * zi + c * zh);
      storeu(ri + k, c * zi - s * zh);
    }
    for (; k < n; k++) {
      const double zh = ri1[k], zi = ri[k];
      ri1[k] = cs[2 * i + 1] * zi + cs[2 * i] * zh;
      ri[k] = cs[2 * i] * zi - cs[2 * i + 1] * zh;
    }
  }
}

/* eigen.ts's hypot: √(a² + b²) without overflow, its exact operations (not libm's hypot). */
static inline double js_hypot(double a, double b) {
  const double x = fabs(a), y = fabs(b);
  if (x > y) {
    const double r = y / x;
    return x * sqrt(1 + r * r);
  }
  if (y == 0) return 0;
  const double r = x / y;
  return y * sqrt(1 + r * r);
}

/*
 * eigen.ts's tqlValues: the eigenvalues alone by the root-free QL of Pal, Walker and Kahan (EISPACK's
 * tqlrat) on the squared couplings — no square root and three divisions a step where tql's
 * rotations take a hypot and two, on a chain of dependent operations. e: tql's shifted copy, left
 * holding squares. Eigenvalues unordered in d. Returns −1 after 60 iterations on one value, else 0.
 */
static int tql_values(double *d, double *e, long n) {
  for (long i = 0; i < n; i++) e[i] = e[i] * e[i];
  const double eps = 2.220446049250313e-16; /* 2⁻⁵² */
  double f = 0, t = 0, b = 0, c = 0;
  for (long l = 0; l < n; l++) {
    double h = fabs(d[l]) + sqrt(e[l]);
    if (t <= h) {
      t = h;
      b = eps * t;
      c = b * b;
    }
    long m = l;
    while (e[m] > c) m++; /* e[n − 1] = 0 */
    if (m > l) {
      int iter = 0;
      for (;;) {
        if (++iter > 60) return -1;
        double s = sqrt(e[l]);
        double g = d[l];
        double p = (d[l + 1] - g) / (2 * s);
        double r = js_hypot(p, 1);
        d[l] = s / (p + (p < 0 ? -r : r));
        h = g - d[l];
        for (long i = l + 1; i < n; i++) d[i] -= h;
        f += h;
        g = d[m];
        if (g == 0) g = b;
        h = g;
        s = 0;
        for (long i = m - 1; i >= l; i--) {
          p = g * h;
          r = p + e[i];
          e[i + 1] = s * r;
          s = e[i] / r;
          d[i + 1] = h + s * (h + d[i]);
          g = d[i] - e[i] / g;
          if (g == 0) g = b;
          h = g * p / r;
        }
        e[l] = s * g;
        d[l] = h;
        /* The convergence test guarded against underflow, as tqlrat does. */
        if (h == 0 || fabs(e[l]) <= fabs(c / h)) break;
        e[l] = h * e[l];
        if (e[l] == 0) break;
      }
    }
    d[l] = d[l] + f;
  }
  return 0;
}

/*
 * eigen.ts's tql: implicit QL on the tridiagonal (d, e with e[i] coupling i − 1 and i); the
 * eigenvalues land in d, the rotations are applied to the rows of z (n × n) when z is given.
 * e is overwritten (it is the caller's scratch copy). Returns −1 when an eigenvalue needs more
 * than 60 iterations (the caller reports it), else 0.
 */
static int tql(double *d, double *e, double *z, long n, double *cs) {
  double f = 0, tst1 = 0;
  const double eps = 2.220446049250313e-16; /* 2⁻⁵² */
  for (long l = 0; l < n; l++) {
    const double t = fabs(d[l]) + fabs(e[l]);
    if (t > tst1) tst1 = t;
    long m = l;
    while (m < n) {
      if (fabs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      int iter = 0;
      do {
        if (++iter > 60) return -1;
        double g = d[l];
        double p = (d[l + 1] - g) / (2 * e[l]);
        double r = js_hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (long i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        double c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        const double el1 = e[l + 1];
        for (long i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = js_hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          cs[2 * i] = c;
          cs[2 * i + 1] = s;
        }
        if (z) rotate_rows(z, n, l, m, cs);
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (fabs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
  return 0;
}

/*
 * eigen.ts's tridiagInverseIteration for each of the k eigenvalues lam[c] (descending), into row
 * c of out (k × n): P L U factors of T − λI, four rounds of solve + Gram–Schmidt against the
 * earlier vectors of the cluster (eigenvalues within gap, nearest first) + normalisation, from
 * the start vector `start` (JavaScript's Math.sin computed it: libm's may differ in the last bit).
 * Returns 0, or −1 when its scratch could not be allocated.
 */
static int inverse_vectors(const double *diag, const double *off, const double *lam, long k, double *out, long n,
                           double tnorm, double gap, const double *start) {
  double *w = malloc(sizeof(double) * (size_t)(5 * n));
  uint8_t *piv = malloc((size_t)n);
  if (!w || !piv) {
    free(w);
    free(piv);
    return -1;
  }
  double *u0 = w, *u1 = w + n, *u2 = w + 2 * n, *l = w + 3 * n;
  const double tiny = (tnorm > DBL_TRUE_MIN ? tnorm : DBL_TRUE_MIN) * 2.220446049250313e-16;
  for (long c = 0; c < k; c++) {
    const double lambda = lam[c];
    double *b = out + c * n;
    for (long i = 0; i < n; i++) {
      u0[i] = diag[i] - lambda;
      u1[i] = i + 1 < n ? off[i + 1] : 0;
      u2[i] = 0;
    }
    double sub = n > 1 ? off[1] : 0;
    for (long i = 0; i < n - 1; i++) {
      const double nextSub = i + 2 < n ? off[i + 2] : 0;
      if (fabs(u0[i]) >= fabs(sub)) {
        piv[i] = 0;
        if (u0[i] == 0) u0[i] = tiny;
        const double m = sub / u0[i];
        l[i] = m;
        u0[i + 1] -= m * u1[i];
      } else {
        piv[i] = 1;
        const double m = u0[i] / sub;
        l[i] = m;
        const double a0 = sub, a1 = u0[i + 1], a2 = u1[i + 1];
        const double b1 = u1[i], b2 = u2[i];
        u0[i] = a0;
        u1[i] = a1;
        u2[i] = a2;
        u0[i + 1] = b1 - m * a1;
        u1[i + 1] = b2 - m * a2;
      }
      sub = nextSub;
    }
    if (u0[n - 1] == 0) u0[n - 1] = tiny;
    memcpy(b, start, sizeof(double) * (size_t)n);
    for (int it = 0; it < 4; it++) {
      for (long i = 0; i < n - 1; i++) {
        if (piv[i]) {
          const double t = b[i];
          b[i] = b[i + 1];
          b[i + 1] = t - l[i] * b[i];
        } else {
          b[i + 1] -= l[i] * b[i];
        }
      }
      for (long i = n - 1; i >= 0; i--) {
        double s = b[i];
        if (i + 1 < n) s -= u1[i] * b[i + 1];
        if (i + 2 < n) s -= u2[i] * b[i + 2];
        b[i] = s / u0[i];
      }
      for (long p = c - 1; p >= 0 && lam[p] - lambda <= gap; p--) {
        const double *q = out + p * n;
        double g0 = 0, g1 = 0, g2 = 0, g3 = 0;
        long i = 0;
        for (; i + 3 < n; i += 4) {
          g0 += q[i] * b[i];
          g1 += q[i + 1] * b[i + 1];
          g2 += q[i + 2] * b[i + 2];
          g3 += q[i + 3] * b[i + 3];
        }
        for (; i < n; i++) g0 += q[i] * b[i];
        const double g = (g0 + g2) + (g1 + g3);
        for (i = 0; i < n; i++) b[i] -= g * q[i];
      }
      double nrm = 0;
      for (long i = 0; i < n; i++) nrm += b[i] * b[i];
      nrm = sqrt(nrm);
      if (!(nrm > 0)) {
        for (long i = 0; i < n; i++) b[i] = (double)((i * 7919) % 13) - 6;
        continue;
      }
      for (long i = 0; i < n; i++) b[i] /= nrm;
    }
  }
  free(w);
  free(piv);
  return 0;
}

/* x ← P_1 … P_{n−1} x for each of the nv vectors (rows of X, length n): eigen.ts's backTransform. */
MULTIVERSION
static void house_apply(const double *restrict house, const double *restrict h, long n, double *restrict X, long nv) {
  for (long s = 1; s < n; s++) {
    const double hs = h[s];
    if (hs == 0.0) continue;
    const double *rs = house + s * n;
    for (long v = 0; v < nv; v++) {
      double *x = X + v * n;
      v4d acc = splat(0.0);
      long k = 0;
      for (; k + 3 < s; k += 4) acc += loadu(rs + k) * loadu(x + k);
      double a0 = acc[0], a1 = acc[1];
      if (k + 1 < s) {
        a0 += rs[k] * x[k];
        a1 += rs[k + 1] * x[k + 1];
        k += 2;
      }
      double g = (a0 + acc[2]) + (a1 + acc[3]);
      if (k < s) g += rs[k] * x[k];
      g /= hs;
      const v4d gv = splat(g);
      for (k = 0; k + 3 < s; k += 4) storeu(x + k, loadu(x + k) - gv * loadu(rs + k));
      for (; k < s; k++) x[k] -= g * rs[k];
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Affinity propagation                                                                          */
/* ------------------------------------------------------------------------------------------ */

/*
 * One fused sweep over rows of S, R, A (n × n): the twin of fusedPass in
 * src/cluster/affinityPropagation.ts and of the wasm ap_rows, with the same floating-point
 * operations in the same order for every entry (so R, A, E, run and the column sums are
 * bit-identical, up to the sign of exact zeros that no comparison or non-zero sum can see).
 * flags: 1 availabilities of iteration t from the column sums cs, with E and the run counters;
 * 2 responsibilities of t + 1; 4 add max(R, 0) (the diagonal: R) of the new responsibilities to
 * ncs in row order. The row max of A + S is kept per vector lane (max, second max, FIRST argmax)
 * and per scalar group (the diagonal and the columns past the last full vector, in index order);
 * the groups merge with the smallest index winning ties, which gives the sequential scan's
 * (y1, y2, I) exactly. The diagonal is kept out of the lanes by S[i][i] = −∞ for the sweep.
 */

/* The sequential scan's step: v joins (y1, y2, I) at index j (after every smaller index). */
static inline void scan_push(double v, long j, double *y1, double *y2, long *I) {
  if (v > *y2) {
    if (v > *y1) {
      *y2 = *y1;
      *y1 = v;
      *I = j;
    } else *y2 = v;
  }
}

/* Merge group (g1, g2, gI) into (y1, y2, I): the larger max wins, ties to the smaller index. */
static inline void merge_group(double g1, double g2, long gI, double *y1, double *y2, long *I) {
  if (g1 > *y1 || (g1 == *y1 && gI < *I)) {
    *y2 = *y1 < g2 ? g2 : *y1;
    *y1 = g1;
    *I = gI;
  } else if (*y2 < g1) *y2 = g1;
}

/* scan_push for four columns at once, one per lane (vj: their indices, advanced by 4). */
static inline void lane_push(v4d v, v4d *y1, v4d *y2, v4l *I, v4l *j) {
  const v4l m = (v4l)(v > *y1);
  *I = (*j & m) | (*I & ~m);
  const v4d mn = vsel((v4l)(*y1 < v), *y1, v);
  *y2 = vsel((v4l)(*y2 < mn), mn, *y2);
  *y1 = vsel((v4l)(*y1 < v), v, *y1);
  *j += (v4l){4, 4, 4, 4};
}

typedef struct {
  double *S, *R, *A;
  const double *cs;
  double *ncs;
  uint8_t *E;
  int32_t *run;
  long n;
  double d, omd;
} ap_state;

MULTIVERSION
static long ap_rows(const ap_state *P, int flags, long r0, long r1) {
  const long n = P->n, pend = n & ~3L;
  const double d = P->d, omd = P->omd;
  const v4d vd = splat(d), vomd = splat(omd);
  const double *cs = P->cs;
  double *ncs = P->ncs;
  long K = 0;
  for (long i = r0; i < r1; i++) {
    double *pS = P->S + i * n, *pR = P->R + i * n, *pA = P->A + i * n;
    const double rii = pR[i];
    v4d vy1 = splat(-INFINITY), vy2 = splat(-INFINITY);
    v4l vI = {0, 0, 0, 0}, vj = {0, 1, 2, 3};
    double s1 = -INFINITY, s2 = -INFINITY; /* the scalar group */
    long sI = 0;
    if (flags & 1) {
      const double sS = pS[i];
      double aii = pA[i];
      pS[i] = -INFINITY;
      for (long j = 0; j < pend; j += 4) {
        const v4d a = loadu(pA + j) * vd - vmax0(vmax0(loadu(pR + j)) - loadu(cs + j)) * vomd;
        storeu(pA + j, a);
        const v4d v = a + loadu(pS + j);
        lane_push(v, &vy1, &vy2, &vI, &vj);
      }
      pS[i] = sS;
      aii = aii * d - (rii - cs[i]) * omd; /* the diagonal: unclipped */
      pA[i] = aii;
      if (i < pend) scan_push(aii + sS, i, &s1, &s2, &sI);
      for (long j = pend; j < n; j++) {
        if (j == i) {
          scan_push(aii + sS, i, &s1, &s2, &sI);
          continue;
        }
        const double r = pR[j] > 0 ? pR[j] : 0.0, t = r - cs[j];
        const double a = pA[j] * d - (t > 0 ? t : 0.0) * omd;
        pA[j] = a;
        scan_push(a + pS[j], j, &s1, &s2, &sI);
      }
      const uint8_t e = aii + rii > 0;
      if (e == P->E[i]) P->run[i]++;
      else {
        P->E[i] = e;
        P->run[i] = 1;
      }
      K += e;
    } else if (flags & 2) {
      for (long j = 0; j < pend; j += 4) {
        const v4d v = loadu(pA + j) + loadu(pS + j);
        lane_push(v, &vy1, &vy2, &vI, &vj);
      }
      for (long j = pend; j < n; j++) scan_push(pA[j] + pS[j], j, &s1, &s2, &sI);
    }
    if (!(flags & 2)) continue;
    double y1 = vy1[0], y2 = vy2[0];
    long I = vI[0];
    for (int l = 1; l < 4; l++) merge_group(vy1[l], vy2[l], vI[l], &y1, &y2, &I);
    merge_group(s1, s2, sI, &y1, &y2, &I);
    /* R = R·d + (S − y1)·(1−d) over the row, then column I and the diagonal redone from their
       saved R and column sums (so each gets exactly one, correct, term). */
    const double rI = pR[I], nI = ncs[I], ni = ncs[i];
    const v4d vy = splat(y1);
    if (flags & 4) {
      for (long j = 0; j < pend; j += 4) {
        const v4d r = loadu(pR + j) * vd + (loadu(pS + j) - vy) * vomd;
        storeu(pR + j, r);
        storeu(ncs + j, loadu(ncs + j) + vmax0(r));
      }
    } else {
      for (long j = 0; j < pend; j += 4) storeu(pR + j, loadu(pR + j) * vd + (loadu(pS + j) - vy) * vomd);
    }
    for (long j = pend; j < n; j++) {
      const double r = pR[j] * d + (pS[j] - y1) * omd;
      pR[j] = r;
      if (flags & 4) ncs[j] = ncs[j] + (r > 0 ? r : 0.0);
    }
    double r;
    if (I != i) {
      r = rI * d + (pS[I] - y2) * omd;
      pR[I] = r;
      if (flags & 4) ncs[I] = nI + (r > 0 ? r : 0.0);
      r = rii * d + (pS[i] - y1) * omd;
    } else {
      r = rii * d + (pS[i] - y2) * omd;
    }
    pR[i] = r;
    if (flags & 4) ncs[i] = ni + r;
  }
  return K;
}

/*
 * ncs[j] += (i ≠ j ? max(R[i][j], 0) : R[j][j]) for rows [r0, r1) in row order, columns [c0, c1):
 * the column sums of rows the second thread swept, continuing each sum in numpy's row order.
 */
MULTIVERSION
static void ap_colsum(const ap_state *P, long r0, long r1, long c0, long c1) {
  const long n = P->n, vend = c0 + ((c1 - c0) & ~3L);
  double *ncs = P->ncs;
  for (long i = r0; i < r1; i++) {
    const double *pR = P->R + i * n;
    const double ni = ncs[i];
    long j = c0;
    for (; j < vend; j += 4) storeu(ncs + j, loadu(ncs + j) + vmax0(loadu(pR + j)));
    for (; j < c1; j++) ncs[j] = ncs[j] + (pR[j] > 0 ? pR[j] : 0.0);
    if (i >= c0 && i < c1) ncs[i] = ni + pR[i];
  }
}

/*
 * The two-thread split: the calling thread claims row chunks from the top and sums columns as it
 * goes (so its rows [0, m) are added in order), the pool thread claims from the bottom without;
 * whoever is faster takes more (the machine is shared: a preempted helper costs one chunk, not
 * half the pass). Then both add the rows [m, n) to the column sums, split by columns.
 */
typedef struct {
  const ap_state *P;
  int flags;
  long cr, nch, front_cap; /* rows per chunk, chunks, most chunks the front may take (tests) */
  _Atomic long long claims; /* front count in the low 32 bits, back count in the high 32 */
  long front;               /* chunks the calling thread swept: its rows are [0, front · cr) */
  long K[2];
  long m, cc, ncc;
  _Atomic long col_next;
} ap_split;

typedef struct {
  ap_split *J;
  int t;
} ap_arg;

static void ap_rows_task(void *arg) {
  const ap_arg *a = arg;
  ap_split *J = a->J;
  const int front = a->t == 0;
  long K = 0, F = 0;
  for (;;) {
    if (front && F >= J->front_cap) break;
    const long long old = atomic_fetch_add(&J->claims, front ? 1LL : (1LL << 32));
    const long f = (long)(old & 0xffffffffLL), b = (long)(old >> 32);
    if (f + b >= J->nch) break;
    const long q = front ? f : J->nch - 1 - b;
    const long r0 = q * J->cr, r1 = r0 + J->cr < J->P->n ? r0 + J->cr : J->P->n;
    K += ap_rows(J->P, front ? J->flags : J->flags & 3, r0, r1);
    if (front) F++;
  }
  J->K[a->t] = K;
  if (front) J->front = F;
}

static void ap_colsum_task(void *arg) {
  const ap_arg *a = arg;
  ap_split *J = a->J;
  for (long q = atomic_fetch_add(&J->col_next, 1); q < J->ncc; q = atomic_fetch_add(&J->col_next, 1)) {
    const long c0 = q * J->cc, c1 = c0 + J->cc < J->P->n ? c0 + J->cc : J->P->n;
    ap_colsum(J->P, J->m, J->P->n, c0, c1);
  }
}

/* One pass over all rows on `threads` threads (1 or 2); front_cap < 0: no cap. Returns K. */
static long ap_pass(const ap_state *P, int flags, int threads, long front_cap) {
  const long n = P->n;
  if (threads < 2 || n < 8) return ap_rows(P, flags, 0, n);
  ap_split J;
  J.P = P;
  J.flags = flags;
  J.cr = (n + 63) / 64;
  J.nch = (n + J.cr - 1) / J.cr;
  J.front_cap = front_cap < 0 ? J.nch : front_cap;
  atomic_init(&J.claims, 0);
  J.front = J.K[0] = J.K[1] = 0;
  ap_arg args[2] = {{&J, 0}, {&J, 1}};
  run_parallel(ap_rows_task, args, sizeof(ap_arg), 2);
  const long K = J.K[0] + J.K[1];
  J.m = J.front * J.cr < n ? J.front * J.cr : n;
  if ((flags & 4) && J.m < n) {
    J.cc = 256;
    J.ncc = (n + J.cc - 1) / J.cc;
    atomic_init(&J.col_next, 0);
    run_parallel(ap_colsum_task, args, sizeof(ap_arg), 2);
  }
  return K;
}

/*
 * Math.log as V8 computes it. V8 does not call the C library's log: it carries its own port of
 * fdlibm's e_log.c (Sun Microsystems 1993, freely distributable with its notice), and glibc's
 * table-driven log differs from it in the last bit for some inputs. This is that algorithm — the
 * reduction x = 2^k·(1 + f), s = f/(2 + f), the degree-14 polynomial in s with fdlibm's minimax
 * coefficients Lg1…Lg7, and the same order of operations — so the native generator's normals
 * equal JavaScript's bit for bit (test/linalg/backends.test.ts compares both over the whole range).
 */
static inline uint32_t hi_word(double x) {
  uint64_t b;
  memcpy(&b, &x, 8);
  return (uint32_t)(b >> 32);
}
static inline uint32_t lo_word(double x) {
  uint64_t b;
  memcpy(&b, &x, 8);
  return (uint32_t)b;
}
static inline double with_hi_word(double x, uint32_t hi) {
  uint64_t b;
  memcpy(&b, &x, 8);
  b = ((uint64_t)hi << 32) | (b & 0xffffffffu);
  memcpy(&x, &b, 8);
  return x;
}

static double v8_log(double x) {
  static const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10,
                      two54 = 1.80143985094819840000e+16, Lg1 = 6.666666666666735130e-01,
                      Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
                      Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01,
                      Lg6 = 1.531383769920937332e-01, Lg7 = 1.479819860511658591e-01;
  int32_t hx = (int32_t)hi_word(x);
  const uint32_t lx = lo_word(x);
  int32_t k = 0;
  if (hx < 0x00100000) { /* x < 2^-1022: zero, negative or subnormal */
    if (((hx & 0x7fffffff) | (int32_t)lx) == 0) return -INFINITY;
    if (hx < 0) return NAN;
    k -= 54;
    x *= two54;
    hx = (int32_t)hi_word(x);
  }
  if (hx >= 0x7ff00000) return x + x; /* +∞ or NaN */
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const int32_t i0 = (hx + 0x95f64) & 0x100000;
  x = with_hi_word(x, (uint32_t)(hx | (i0 ^ 0x3ff00000))); /* x or x/2 into [√2/2, √2) */
  k += i0 >> 20;
  const double f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) { /* |f| < 2^-20 */
    if (f == 0.0) {
      if (k == 0) return 0.0;
      const double dk = (double)k;
      return dk * ln2_hi + dk * ln2_lo;
    }
    const double R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const double dk = (double)k;
    return dk * ln2_hi - ((R - dk * ln2_lo) - f);
  }
  const double s = f / (2.0 + f);
  const double dk = (double)k;
  const double z = s * s;
  int32_t i = hx - 0x6147a;
  const double w = z * z;
  const int32_t j = 0x6b851 - hx;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  i |= j;
  const double R = t2 + t1;
  /* fdlibm branches four ways here on i > 0 and k == 0; for the generator's uniform s both are
   * coin flips, so every candidate is computed and one selected (no mispredicted branches). */
  const double hfsq = 0.5 * f * f;
  const double a1 = s * (hfsq + R), a2 = s * (f - R);
  const double r0 = i > 0 ? f - (hfsq - a1) : f - a2;
  const double rk = i > 0 ? dk * ln2_hi - ((hfsq - (a1 + dk * ln2_lo)) - f) : dk * ln2_hi - ((a2 - dk * ln2_lo) - f);
  return k == 0 ? r0 : rk;
}

/*
 * V8's Math.exp (src/base/ieee754.cc: fdlibm's e_exp.c): the same reduction by ln 2 in two parts,
 * the same degree-5 polynomial in the same order and the same scaling by 2^k, so the soft
 * assignment below gives JavaScript's values bit for bit (test/linalg/backends.test.ts compares it
 * with Math.exp over the whole range).
 */
static double v8_exp(double x) {
  static const double halF[2] = {0.5, -0.5}, o_threshold = 7.09782712893383973096e+02,
                      u_threshold = -7.45133219101941108420e+02,
                      ln2HI[2] = {6.93147180369123816490e-01, -6.93147180369123816490e-01},
                      ln2LO[2] = {1.90821492927058770002e-10, -1.90821492927058770002e-10},
                      invln2 = 1.44269504088896338700e+00, P1 = 1.66666666666666019037e-01,
                      P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
                      P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08,
                      E = 2.718281828459045, twom1000 = 9.33263618503218878990e-302,
                      two1023 = 8.988465674311579539e307;
  double hi = 0.0, lo = 0.0;
  int32_t k = 0;
  uint32_t hx = hi_word(x);
  const int32_t xsb = (int32_t)((hx >> 31) & 1);
  hx &= 0x7fffffff;
  if (hx >= 0x40862E42) { /* |x| ≥ 709.78…: overflow, underflow, ±∞ or NaN */
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | lo_word(x)) != 0) return x + x;
      return xsb == 0 ? x : 0.0;
    }
    if (x > o_threshold) return INFINITY;
    if (x < u_threshold) return 0.0;
  }
  if (hx > 0x3fd62e42) { /* |x| > ln2 / 2 */
    if (hx < 0x3FF0A2B2) { /* and < 1.5 ln2 */
      if (x == 1.0) return E;
      hi = x - ln2HI[xsb];
      lo = ln2LO[xsb];
      k = 1 - xsb - xsb;
    } else {
      k = (int32_t)(invln2 * x + halF[xsb]);
      const double t = k;
      hi = x - t * ln2HI[0];
      lo = t * ln2LO[0];
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) { /* |x| < 2^-28 */
    return 1.0 + x;
  } else {
    k = 0;
  }
  const double t = x * x;
  double twopk;
  if (k >= -1021) twopk = with_hi_word(0.0, 0x3ff00000u + ((uint32_t)k << 20));
  else twopk = with_hi_word(0.0, 0x3ff00000u + ((uint32_t)(k + 1000) << 20));
  const double c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const double y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * two1023;
    return y * twopk;
  }
  return y * twopk * twom1000;
}

/*
 * linalg/softAssign.ts's penalisedSoftmaxRows (Harmony's responsibility update, batch/harmony.ts):
 * for each listed row i, logits_k = D_ik·c, x_k = exp(logits_k − max)·P[g_i·K + k], R_i = x / Σx,
 * ent_i = Σ R_ik·(logits_k + logP[g_i·K + k]) − (max + log Σx)·Σ R_ik and km_i = Σ R_ik·D_ik, every
 * operation in the twin's order. Rows are independent, so they are split over threads.
 */
typedef struct {
  const double *D, *P, *logP;
  double *R, *ent, *km, *logits;
  const int32_t *codes, *rows;
  long t0, t1, K;
  double c;
} soft_job;

static void soft_rows(const soft_job *J) {
  const long K = J->K;
  double *logits = J->logits;
  for (long t = J->t0; t < J->t1; t++) {
    const long i = J->rows[t], ro = i * K, bo = (long)J->codes[i] * K;
    const double *d = J->D + ro, *p = J->P + bo, *lp = J->logP + bo;
    double *r = J->R + ro;
    double mx = -INFINITY;
    for (long k = 0; k < K; k++) {
      const double v = d[k] * J->c;
      logits[k] = v;
      if (v > mx) mx = v;
    }
    double s = 0;
    for (long k = 0; k < K; k++) {
      const double x = v8_exp(logits[k] - mx) * p[k];
      r[k] = x;
      s += x;
    }
    double a = 0, km = 0, tot = 0;
    const double inv = 1 / s;
    for (long k = 0; k < K; k++) {
      const double v = r[k] * inv;
      r[k] = v;
      a += v * (logits[k] + lp[k]);
      km += v * d[k];
      tot += v;
    }
    J->ent[i] = a - (mx + v8_log(s)) * tot;
    J->km[i] = km;
  }
}

static void soft_task(void *arg) { soft_rows((const soft_job *)arg); }

/*
 * linalg/softAssign.ts's addRowMasses: for the listed rows in order, sum[k] += R_ik and
 * O[g_i·K + k] ∓= R_ik (and F[g_i·K + k] += R_ik when F is given). Every accumulator belongs to one
 * k, so the threads split the columns and each accumulator still receives its terms in row order.
 */
typedef struct {
  const double *R;
  double *sum, *O, *F;
  const int32_t *codes, *rows;
  long t0, t1, K, k0, k1;
  int sub;
} mass_job;

static void mass_cols(const mass_job *J) {
  const long K = J->K, k0 = J->k0, k1 = J->k1;
  double *restrict sum = J->sum, *restrict O = J->O, *restrict F = J->F;
  for (long t = J->t0; t < J->t1; t++) {
    const long i = J->rows[t], ro = i * K, bo = (long)J->codes[i] * K;
    const double *r = J->R + ro;
    if (J->sub) {
      for (long k = k0; k < k1; k++) {
        sum[k] += r[k];
        O[bo + k] -= r[k];
      }
    } else if (F) {
      for (long k = k0; k < k1; k++) {
        sum[k] += r[k];
        O[bo + k] += r[k];
        F[bo + k] += r[k];
      }
    } else {
      for (long k = k0; k < k1; k++) {
        sum[k] += r[k];
        O[bo + k] += r[k];
      }
    }
  }
}

static void mass_task(void *arg) { mass_cols((const mass_job *)arg); }

/*
 * util/rng.ts's fillNormal: `count` standard normals into out by the Marsaglia polar method from
 * the xoshiro128** state st (advanced in place), the same draws in the same order; returns the
 * spare variate when count is odd (NaN otherwise), which the generator keeps for its next draw.
 */
static inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static double fill_normal(uint32_t *st, double *out, long count) {
  /* Pairs are drawn a block at a time and transformed in a second loop, so the generator's serial
   * chain and the independent logarithms and square roots each run at their own pace. */
  enum { BLOCK = 128 };
  double uvs[3 * BLOCK];
  uint32_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  uint32_t r[4];
  double spare = NAN;
  for (long i = 0; i < count;) {
    const long want = (count - i + 1) / 2, nb = want < BLOCK ? want : BLOCK;
    /* Each trial is written to the next slot and kept by advancing p only when accepted
     * (0 < s < 1): no branch on the coin flip, so the generator's chain never stalls. */
    for (long p = 0; p < nb;) {
      for (int q = 0; q < 4; q++) {
        r[q] = rotl32(s1 * 5u, 7) * 9u;
        const uint32_t t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl32(s3, 11);
      }
      /* 53-bit uniforms as rng.ts builds them: integers below 2^53, so every step is exact. */
      const double u = 2.0 * (((double)(r[0] >> 5) * 67108864.0 + (double)(r[1] >> 6)) / 9007199254740992.0) - 1.0;
      const double v = 2.0 * (((double)(r[2] >> 5) * 67108864.0 + (double)(r[3] >> 6)) / 9007199254740992.0) - 1.0;
      const double s = u * u + v * v;
      uvs[3 * p] = u;
      uvs[3 * p + 1] = v;
      uvs[3 * p + 2] = s;
      p += (s < 1.0) & (s != 0.0);
    }
    for (long p = 0; p < nb; p++) {
      const double s = uvs[3 * p + 2];
      const double f = sqrt((-2.0 * v8_log(s)) / s);
      out[i++] = uvs[3 * p] * f;
      if (i < count) out[i++] = uvs[3 * p + 1] * f;
      else spare = uvs[3 * p + 1] * f;
    }
  }
  st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
  return spare;
}

/* ------------------------------------------------------------------------------------------ */
/* Adam with decoupled weight decay (linalg/adam.ts adamStep)                                    */
/* ------------------------------------------------------------------------------------------ */

/*
 * Per element, in adamStep's order: m ← b1·m + (1 − b1)·g, v ← b2·v + ((1 − b2)·g)·g,
 * w ← w − ((lrT·m) / (√v + eps) + decay·w). Products, sums, the quotient and the square root are
 * each correctly rounded, in vectors as in scalars (no contraction: -ffp-contract=off), so every
 * lane equals the JavaScript twin bit for bit; the vectors only do eight (four) elements at once.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static long adam_avx512(double *restrict w, const double *restrict g, double *restrict m, double *restrict v, long n,
                        double lrT, double decay, double b1, double b2, double eps) {
  const __m512d B1 = _mm512_set1_pd(b1), C1 = _mm512_set1_pd(1 - b1), B2 = _mm512_set1_pd(b2), C2 = _mm512_set1_pd(1 - b2);
  const __m512d LR = _mm512_set1_pd(lrT), DEC = _mm512_set1_pd(decay), EPS = _mm512_set1_pd(eps);
  long t = 0;
  for (; t + 8 <= n; t += 8) {
    const __m512d gt = _mm512_loadu_pd(g + t);
    const __m512d mt = _mm512_add_pd(_mm512_mul_pd(B1, _mm512_loadu_pd(m + t)), _mm512_mul_pd(C1, gt));
    const __m512d vt = _mm512_add_pd(_mm512_mul_pd(B2, _mm512_loadu_pd(v + t)), _mm512_mul_pd(_mm512_mul_pd(C2, gt), gt));
    _mm512_storeu_pd(m + t, mt);
    _mm512_storeu_pd(v + t, vt);
    const __m512d wt = _mm512_loadu_pd(w + t);
    const __m512d upd = _mm512_add_pd(_mm512_div_pd(_mm512_mul_pd(LR, mt), _mm512_add_pd(_mm512_sqrt_pd(vt), EPS)), _mm512_mul_pd(DEC, wt));
    _mm512_storeu_pd(w + t, _mm512_sub_pd(wt, upd));
  }
  return t;
}

__attribute__((target("avx2")))
static long adam_avx2(double *restrict w, const double *restrict g, double *restrict m, double *restrict v, long n,
                      double lrT, double decay, double b1, double b2, double eps) {
  const __m256d B1 = _mm256_set1_pd(b1), C1 = _mm256_set1_pd(1 - b1), B2 = _mm256_set1_pd(b2), C2 = _mm256_set1_pd(1 - b2);
  const __m256d LR = _mm256_set1_pd(lrT), DEC = _mm256_set1_pd(decay), EPS = _mm256_set1_pd(eps);
  long t = 0;
  for (; t + 4 <= n; t += 4) {
    const __m256d gt = _mm256_loadu_pd(g + t);
    const __m256d mt = _mm256_add_pd(_mm256_mul_pd(B1, _mm256_loadu_pd(m + t)), _mm256_mul_pd(C1, gt));
    const __m256d vt = _mm256_add_pd(_mm256_mul_pd(B2, _mm256_loadu_pd(v + t)), _mm256_mul_pd(_mm256_mul_pd(C2, gt), gt));
    _mm256_storeu_pd(m + t, mt);
    _mm256_storeu_pd(v + t, vt);
    const __m256d wt = _mm256_loadu_pd(w + t);
    const __m256d upd = _mm256_add_pd(_mm256_div_pd(_mm256_mul_pd(LR, mt), _mm256_add_pd(_mm256_sqrt_pd(vt), EPS)), _mm256_mul_pd(DEC, wt));
    _mm256_storeu_pd(w + t, _mm256_sub_pd(wt, upd));
  }
  return t;
}
#endif

static void adam_step(double *restrict w, const double *restrict g, double *restrict m, double *restrict v, long n,
                      double lrT, double decay, double b1, double b2, double eps) {
  long t = 0;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (MR == 8) t = adam_avx512(w, g, m, v, n, lrT, decay, b1, b2, eps);
  else if (__builtin_cpu_supports("avx2")) t = adam_avx2(w, g, m, v, n, lrT, decay, b1, b2, eps);
#endif
  for (; t < n; t++) {
    const double gt = g[t];
    const double mt = b1 * m[t] + (1 - b1) * gt;
    const double vt = b2 * v[t] + (1 - b2) * gt * gt;
    m[t] = mt;
    v[t] = vt;
    w[t] = w[t] - (lrT * mt / (sqrt(vt) + eps) + decay * w[t]);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* N-API glue                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
  void *data;
  size_t len;
  napi_typedarray_type type;
} arr;

static int get_arr(napi_env env, napi_value v, arr *out, const char *fn, int argi) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) goto bad;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &out->type, &out->len, &out->data, &ab, &off) != napi_ok) goto bad;
  return 1;
bad : {
  char msg[128];
  snprintf(msg, sizeof msg, "%s: argument %d must be a typed array", fn, argi);
  napi_throw_type_error(env, NULL, msg);
  return 0;
}
}

static int want(napi_env env, const arr *a, napi_typedarray_type t, size_t len, const char *fn, int argi) {
  if (a->type == t && a->len >= len) return 1;
  char msg[160];
  snprintf(msg, sizeof msg, "%s: argument %d has the wrong element type or fewer than %zu elements", fn, argi, len);
  napi_throw_range_error(env, NULL, msg);
  return 0;
}

static int get_long(napi_env env, napi_value v, long *out, const char *fn, int argi) {
  int64_t x;
  if (napi_get_value_int64(env, v, &x) != napi_ok || x < 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: argument %d must be a non-negative integer", fn, argi);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (long)x;
  return 1;
}

#define ARGS(count)                                                              \
  size_t argc = count;                                                           \
  napi_value argv[count];                                                        \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL; \
  if (argc < count) {                                                            \
    napi_throw_type_error(env, NULL, "phenomap native kernel: too few arguments"); \
    return NULL;                                                                 \
  }

static int f64_or_f32(const arr *a) { return a->type == napi_float64_array || a->type == napi_float32_array; }

/*
 * nt(a, b, c, m, n, k, ldc, sym, aT, bT, threads) → false when scratch memory could not be had.
 * sym: 0 general; 1 symmetric (B = A), C on and above the diagonal only; 2 symmetric, both halves.
 */
static napi_value js_nt(napi_env env, napi_callback_info info) {
  ARGS(11);
  arr a, b, c;
  long m, n, k, ldc, sym, aT, bT, threads;
  if (!get_arr(env, argv[0], &a, "nt", 0) || !get_arr(env, argv[1], &b, "nt", 1) || !get_arr(env, argv[2], &c, "nt", 2)) return NULL;
  if (!get_long(env, argv[3], &m, "nt", 3) || !get_long(env, argv[4], &n, "nt", 4) || !get_long(env, argv[5], &k, "nt", 5) ||
      !get_long(env, argv[6], &ldc, "nt", 6) || !get_long(env, argv[7], &sym, "nt", 7) || !get_long(env, argv[8], &aT, "nt", 8) ||
      !get_long(env, argv[9], &bT, "nt", 9) || !get_long(env, argv[10], &threads, "nt", 10))
    return NULL;
  if (!f64_or_f32(&a) || !f64_or_f32(&b) || a.len < (size_t)(m * k) || b.len < (size_t)(n * k) || ldc < n) {
    napi_throw_range_error(env, NULL, "nt: operands must be float64 or float32 arrays of m×k and n×k values, ldc >= n");
    return NULL;
  }
  if (m > 0 && !want(env, &c, napi_float64_array, (size_t)((m - 1) * ldc + n), "nt", 2)) return NULL;
  if (m > 0) advise_huge(c.data, sizeof(double) * (size_t)((m - 1) * ldc + n));
  operand A = {a.data, a.type == napi_float32_array, (int)aT, aT ? (int)m : (int)k};
  operand B = {b.data, b.type == napi_float32_array, (int)bT, bT ? (int)n : (int)k};
  int ok = nt_compute(A, B, (double *)c.data, m, n, k, ldc, (int)sym, (int)threads, NULL, NULL);
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

/*
 * ntF32(a, b, c, m, n, k, ldc, aT, bT, threads, shiftA, shiftB, cT) → false when scratch memory
 * could not be had. shiftA / shiftB: null or a Float64Array indexed by the operand's storage
 * column. cT: 1 writes C transposed (entry (i, j) at c[j·ldc + i], ldc ≥ m); 2 is A·Aᵀ, computing
 * the tiles on and above the diagonal and writing each entry at (i, j) and (j, i) — the same
 * values the full product gives, as x·y = y·x in float32 too.
 */
static napi_value js_nt_f32(napi_env env, napi_callback_info info) {
  ARGS(13);
  arr a, b, c, sa, sb;
  long m, n, k, ldc, aT, bT, threads;
  if (!get_arr(env, argv[0], &a, "ntF32", 0) || !get_arr(env, argv[1], &b, "ntF32", 1) || !get_arr(env, argv[2], &c, "ntF32", 2)) return NULL;
  if (!get_long(env, argv[3], &m, "ntF32", 3) || !get_long(env, argv[4], &n, "ntF32", 4) || !get_long(env, argv[5], &k, "ntF32", 5) ||
      !get_long(env, argv[6], &ldc, "ntF32", 6) || !get_long(env, argv[7], &aT, "ntF32", 7) || !get_long(env, argv[8], &bT, "ntF32", 8) ||
      !get_long(env, argv[9], &threads, "ntF32", 9))
    return NULL;
  long cT;
  if (!get_long(env, argv[12], &cT, "ntF32", 12)) return NULL;
  if (!f64_or_f32(&a) || !f64_or_f32(&b) || a.len < (size_t)(m * k) || b.len < (size_t)(n * k) || ldc < (cT ? m : n)) {
    napi_throw_range_error(env, NULL, "ntF32: operands must be float64 or float32 arrays of m×k and n×k values, ldc >= n (m when cT)");
    return NULL;
  }
  if (m > 0 && n > 0 && !want(env, &c, napi_float64_array, cT ? (size_t)((n - 1) * ldc + m) : (size_t)((m - 1) * ldc + n), "ntF32", 2)) return NULL;
  const double *shift[2] = {NULL, NULL};
  for (int s = 0; s < 2; s++) {
    napi_valuetype t;
    if (napi_typeof(env, argv[10 + s], &t) != napi_ok) return NULL;
    if (t == napi_null || t == napi_undefined) continue;
    arr *x = s ? &sb : &sa;
    if (!get_arr(env, argv[10 + s], x, "ntF32", 10 + s)) return NULL;
    const long cols = s ? (bT ? n : k) : (aT ? m : k);
    if (!want(env, x, napi_float64_array, (size_t)cols, "ntF32", 10 + s)) return NULL;
    shift[s] = (const double *)x->data;
  }
  operand A = {a.data, a.type == napi_float32_array, (int)aT, aT ? (int)m : (int)k};
  operand B = {b.data, b.type == napi_float32_array, (int)bT, bT ? (int)n : (int)k};
  /* cT = 2: the symmetric product A·Aᵀ (the caller passes A as both operands, with one shift). */
  const int sym = cT == 2;
  if (sym && (m != n || a.data != b.data || aT != bT || shift[0] != shift[1])) {
    napi_throw_range_error(env, NULL, "ntF32: the symmetric mode (cT = 2) needs A = B and shiftA = shiftB");
    return NULL;
  }
  int ok = ntf_compute(A, shift[0], B, shift[1], (double *)c.data, m, n, k, ldc, cT == 1, sym, (int)threads);
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

/*
 * sqdist(x, n, k, out, threads): out = n × n squared distances between the rows of x (n × k),
 * as distance.ts's squaredDistances — the upper Gram triangle, each tile turned into distances
 * (both halves) as it is finished. False when scratch memory could not be had.
 */
static napi_value js_sqdist(napi_env env, napi_callback_info info) {
  ARGS(5);
  arr x, out;
  long n, k, threads;
  if (!get_arr(env, argv[0], &x, "sqdist", 0) || !get_long(env, argv[1], &n, "sqdist", 1) ||
      !get_long(env, argv[2], &k, "sqdist", 2) || !get_arr(env, argv[3], &out, "sqdist", 3) ||
      !get_long(env, argv[4], &threads, "sqdist", 4))
    return NULL;
  if (!f64_or_f32(&x) || x.len < (size_t)(n * k)) {
    napi_throw_range_error(env, NULL, "sqdist: x must be a float64 or float32 array of n×k values");
    return NULL;
  }
  if (!want(env, &out, napi_float64_array, (size_t)(n * n), "sqdist", 3)) return NULL;
  const int f32 = x.type == napi_float32_array;
  advise_huge(out.data, sizeof(double) * (size_t)(n * n));
  double *nrm = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  int ok = nrm != NULL;
  if (ok) {
    /* ‖xᵢ‖² as the Gram diagonal's sequential sum (what the JavaScript epilogue reads). */
    row_sq_norms(x.data, f32, n, k, nrm);
    operand A = {x.data, f32, 0, (int)k};
    ok = nt_compute(A, A, (double *)out.data, n, n, k, n, 1, (int)threads, nrm, NULL);
    free(nrm);
  }
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

/* colMoments(x, n, d, sum, varies, mean0, res, ss) */
static napi_value js_col_moments(napi_env env, napi_callback_info info) {
  ARGS(8);
  arr x, sum, varies, mean0, res, ss;
  long n, d;
  if (!get_arr(env, argv[0], &x, "colMoments", 0) || !get_long(env, argv[1], &n, "colMoments", 1) ||
      !get_long(env, argv[2], &d, "colMoments", 2) || !get_arr(env, argv[3], &sum, "colMoments", 3) ||
      !get_arr(env, argv[4], &varies, "colMoments", 4) || !get_arr(env, argv[5], &mean0, "colMoments", 5) ||
      !get_arr(env, argv[6], &res, "colMoments", 6) || !get_arr(env, argv[7], &ss, "colMoments", 7))
    return NULL;
  const napi_typedarray_type xt = x.type == napi_float32_array ? napi_float32_array : napi_float64_array;
  if (!want(env, &x, xt, (size_t)(n * d), "colMoments", 0) ||
      !want(env, &sum, napi_float64_array, (size_t)d, "colMoments", 3) ||
      !want(env, &varies, napi_uint8_array, (size_t)d, "colMoments", 4) ||
      !want(env, &mean0, napi_float64_array, (size_t)d, "colMoments", 5) ||
      !want(env, &res, napi_float64_array, (size_t)d, "colMoments", 6) ||
      !want(env, &ss, napi_float64_array, (size_t)d, "colMoments", 7))
    return NULL;
  if (xt == napi_float32_array)
    col_moments_f32(x.data, n, d, sum.data, varies.data, mean0.data, res.data, ss.data);
  else
    col_moments(x.data, n, d, sum.data, varies.data, mean0.data, res.data, ss.data);
  return NULL;
}

/* colMeanM2(x, n, d, mean, m2) */
static napi_value js_col_mean_m2(napi_env env, napi_callback_info info) {
  ARGS(5);
  arr x, mean, m2;
  long n, d;
  if (!get_arr(env, argv[0], &x, "colMeanM2", 0) || !get_long(env, argv[1], &n, "colMeanM2", 1) ||
      !get_long(env, argv[2], &d, "colMeanM2", 2) || !get_arr(env, argv[3], &mean, "colMeanM2", 3) ||
      !get_arr(env, argv[4], &m2, "colMeanM2", 4))
    return NULL;
  const napi_typedarray_type xt = x.type == napi_float32_array ? napi_float32_array : napi_float64_array;
  if (!want(env, &x, xt, (size_t)(n * d), "colMeanM2", 0) || !want(env, &mean, napi_float64_array, (size_t)d, "colMeanM2", 3) ||
      !want(env, &m2, napi_float64_array, (size_t)d, "colMeanM2", 4))
    return NULL;
  if (xt == napi_float32_array)
    col_welford_f32(x.data, n, d, mean.data, m2.data);
  else
    col_welford(x.data, n, d, mean.data, m2.data);
  return NULL;
}

/* colStandardize(x, n, d, kept, mean, std, out) */
static napi_value js_col_standardize(napi_env env, napi_callback_info info) {
  ARGS(7);
  arr x, kept, mean, sd, out;
  long n, d;
  if (!get_arr(env, argv[0], &x, "colStandardize", 0) || !get_long(env, argv[1], &n, "colStandardize", 1) ||
      !get_long(env, argv[2], &d, "colStandardize", 2) || !get_arr(env, argv[3], &kept, "colStandardize", 3) ||
      !get_arr(env, argv[4], &mean, "colStandardize", 4) || !get_arr(env, argv[5], &sd, "colStandardize", 5) ||
      !get_arr(env, argv[6], &out, "colStandardize", 6))
    return NULL;
  const size_t k = kept.len;
  /* out has x's element type (float32 in, float32 out; float64 in, float64 out). */
  const napi_typedarray_type xt = x.type == napi_float32_array ? napi_float32_array : napi_float64_array;
  if (!want(env, &x, xt, (size_t)(n * d), "colStandardize", 0) ||
      !want(env, &kept, napi_int32_array, 0, "colStandardize", 3) ||
      !want(env, &mean, napi_float64_array, k, "colStandardize", 4) ||
      !want(env, &sd, napi_float64_array, k, "colStandardize", 5) ||
      !want(env, &out, xt, (size_t)n * k, "colStandardize", 6))
    return NULL;
  for (size_t c = 0; c < k; c++) {
    int32_t j = ((const int32_t *)kept.data)[c];
    if (j < 0 || j >= d || (c > 0 && j <= ((const int32_t *)kept.data)[c - 1])) {
      napi_throw_range_error(env, NULL, "colStandardize: kept columns must be ascending indices into the table");
      return NULL;
    }
  }
  if (xt == napi_float32_array)
    col_standardize_f32(x.data, n, d, kept.data, (long)k, mean.data, sd.data, out.data);
  else
    col_standardize(x.data, n, d, kept.data, (long)k, mean.data, sd.data, out.data);
  return NULL;
}

/* centerRows(x, n, d, mean, out) → Σ out² */
static napi_value js_center_rows(napi_env env, napi_callback_info info) {
  ARGS(5);
  arr x, mean, out;
  long n, d;
  if (!get_arr(env, argv[0], &x, "centerRows", 0) || !get_long(env, argv[1], &n, "centerRows", 1) ||
      !get_long(env, argv[2], &d, "centerRows", 2) || !get_arr(env, argv[3], &mean, "centerRows", 3) ||
      !get_arr(env, argv[4], &out, "centerRows", 4))
    return NULL;
  if (!want(env, &x, napi_float64_array, (size_t)(n * d), "centerRows", 0) ||
      !want(env, &mean, napi_float64_array, (size_t)d, "centerRows", 3) ||
      !want(env, &out, napi_float64_array, (size_t)(n * d), "centerRows", 4))
    return NULL;
  napi_value r;
  napi_create_double(env, center_rows(x.data, n, d, mean.data, out.data), &r);
  return r;
}

/* tred2(w, d, e, n) */
static napi_value js_tred2(napi_env env, napi_callback_info info) {
  ARGS(4);
  arr w, d, e;
  long n;
  if (!get_arr(env, argv[0], &w, "tred2", 0) || !get_arr(env, argv[1], &d, "tred2", 1) ||
      !get_arr(env, argv[2], &e, "tred2", 2) || !get_long(env, argv[3], &n, "tred2", 3))
    return NULL;
  if (!want(env, &w, napi_float64_array, (size_t)(n * n), "tred2", 0) || !want(env, &d, napi_float64_array, (size_t)n, "tred2", 1) ||
      !want(env, &e, napi_float64_array, (size_t)n, "tred2", 2))
    return NULL;
  if (n > 0) {
    double *scratch = malloc((size_t)(2 * n) * sizeof(double));
    if (!scratch) {
      napi_throw_error(env, NULL, "tred2: out of memory");
      return NULL;
    }
    tred2(w.data, d.data, e.data, n, scratch, scratch + n);
    free(scratch);
  }
  return NULL;
}

/* tql(d, e, z | null, n, cs) → 0, or −1 when QL did not converge. e: the shifted copy (e[i − 1] = off[i]). */
static napi_value js_tql(napi_env env, napi_callback_info info) {
  ARGS(5);
  arr d, e, z = {NULL, 0, napi_float64_array}, cs;
  long n;
  napi_valuetype zt;
  if (!get_arr(env, argv[0], &d, "tql", 0) || !get_arr(env, argv[1], &e, "tql", 1) ||
      !get_long(env, argv[3], &n, "tql", 3) || !get_arr(env, argv[4], &cs, "tql", 4))
    return NULL;
  if (napi_typeof(env, argv[2], &zt) != napi_ok) return NULL;
  if (zt != napi_null && (!get_arr(env, argv[2], &z, "tql", 2) || !want(env, &z, napi_float64_array, (size_t)(n * n), "tql", 2)))
    return NULL;
  if (!want(env, &d, napi_float64_array, (size_t)n, "tql", 0) || !want(env, &e, napi_float64_array, (size_t)n, "tql", 1) ||
      !want(env, &cs, napi_float64_array, (size_t)(2 * n), "tql", 4))
    return NULL;
  napi_value r;
  napi_create_int32(env, zt == napi_null ? tql_values(d.data, e.data, n) : tql(d.data, e.data, z.data, n, cs.data), &r);
  return r;
}

/* inverseVectors(diag, off, lam, out, n, tnorm, gap, start) → 0, or −1 (no memory); k = lam.length. */
static napi_value js_inverse_vectors(napi_env env, napi_callback_info info) {
  ARGS(8);
  arr diag, off, lam, out, start;
  long n;
  double tnorm, gap;
  if (!get_arr(env, argv[0], &diag, "inverseVectors", 0) || !get_arr(env, argv[1], &off, "inverseVectors", 1) ||
      !get_arr(env, argv[2], &lam, "inverseVectors", 2) || !get_arr(env, argv[3], &out, "inverseVectors", 3) ||
      !get_long(env, argv[4], &n, "inverseVectors", 4) || !get_arr(env, argv[7], &start, "inverseVectors", 7))
    return NULL;
  if (napi_get_value_double(env, argv[5], &tnorm) != napi_ok || napi_get_value_double(env, argv[6], &gap) != napi_ok) {
    napi_throw_type_error(env, NULL, "inverseVectors: tnorm and gap must be numbers");
    return NULL;
  }
  const size_t k = lam.len;
  if (!want(env, &diag, napi_float64_array, (size_t)n, "inverseVectors", 0) ||
      !want(env, &off, napi_float64_array, (size_t)n, "inverseVectors", 1) ||
      !want(env, &lam, napi_float64_array, 0, "inverseVectors", 2) ||
      !want(env, &out, napi_float64_array, k * (size_t)n, "inverseVectors", 3) ||
      !want(env, &start, napi_float64_array, (size_t)n, "inverseVectors", 7))
    return NULL;
  napi_value r;
  napi_create_int32(env, n > 0 ? inverse_vectors(diag.data, off.data, lam.data, (long)k, out.data, n, tnorm, gap, start.data) : 0, &r);
  return r;
}

/* houseApply(house, h, n, X, nv) */
static napi_value js_house_apply(napi_env env, napi_callback_info info) {
  ARGS(5);
  arr house, h, X;
  long n, nv;
  if (!get_arr(env, argv[0], &house, "houseApply", 0) || !get_arr(env, argv[1], &h, "houseApply", 1) ||
      !get_long(env, argv[2], &n, "houseApply", 2) || !get_arr(env, argv[3], &X, "houseApply", 3) ||
      !get_long(env, argv[4], &nv, "houseApply", 4))
    return NULL;
  if (!want(env, &house, napi_float64_array, (size_t)(n * n), "houseApply", 0) ||
      !want(env, &h, napi_float64_array, (size_t)n, "houseApply", 1) ||
      !want(env, &X, napi_float64_array, (size_t)(n * nv), "houseApply", 3))
    return NULL;
  house_apply(house.data, h.data, n, X.data, nv);
  return NULL;
}

/*
 * apPass(S, R, A, cs, ncs, E, run, n, d, omd, flags, threads, frontCap) → K: one affinity-
 * propagation sweep (ap_rows' flags) over all rows; frontCap ≥ 0 caps the calling thread's row
 * chunks (tests force the split with it), −1 none.
 */
static napi_value js_ap_pass(napi_env env, napi_callback_info info) {
  ARGS(13);
  arr S, R, A, cs, ncs, E, run;
  long n, flags, threads;
  double d, omd;
  int64_t cap;
  const char *fn = "apPass";
  if (!get_arr(env, argv[0], &S, fn, 0) || !get_arr(env, argv[1], &R, fn, 1) || !get_arr(env, argv[2], &A, fn, 2) ||
      !get_arr(env, argv[3], &cs, fn, 3) || !get_arr(env, argv[4], &ncs, fn, 4) || !get_arr(env, argv[5], &E, fn, 5) ||
      !get_arr(env, argv[6], &run, fn, 6) || !get_long(env, argv[7], &n, fn, 7))
    return NULL;
  if (napi_get_value_double(env, argv[8], &d) != napi_ok || napi_get_value_double(env, argv[9], &omd) != napi_ok ||
      !get_long(env, argv[10], &flags, fn, 10) || !get_long(env, argv[11], &threads, fn, 11) ||
      napi_get_value_int64(env, argv[12], &cap) != napi_ok) {
    napi_throw_type_error(env, NULL, "apPass: arguments 8–12 must be numbers");
    return NULL;
  }
  const size_t nn = (size_t)n * (size_t)n;
  if (!want(env, &S, napi_float64_array, nn, fn, 0) || !want(env, &R, napi_float64_array, nn, fn, 1) ||
      !want(env, &A, napi_float64_array, nn, fn, 2) || !want(env, &cs, napi_float64_array, (size_t)n, fn, 3) ||
      !want(env, &ncs, napi_float64_array, (size_t)n, fn, 4) || !want(env, &E, napi_uint8_array, (size_t)n, fn, 5) ||
      !want(env, &run, napi_int32_array, (size_t)n, fn, 6))
    return NULL;
  const ap_state P = {S.data, R.data, A.data, cs.data, ncs.data, E.data, run.data, n, d, omd};
  const long K = n > 0 ? ap_pass(&P, (int)flags, (int)threads, (long)cap) : 0;
  napi_value r;
  napi_create_int64(env, K, &r);
  return r;
}

/* fillNormal(state: Uint32Array(4), out: Float64Array, start, end) → spare (NaN when none) */
static napi_value js_fill_normal(napi_env env, napi_callback_info info) {
  ARGS(4);
  arr st, out;
  long start, end;
  if (!get_arr(env, argv[0], &st, "fillNormal", 0) || !get_arr(env, argv[1], &out, "fillNormal", 1) ||
      !get_long(env, argv[2], &start, "fillNormal", 2) || !get_long(env, argv[3], &end, "fillNormal", 3))
    return NULL;
  if (!want(env, &st, napi_uint32_array, 4, "fillNormal", 0) || !want(env, &out, napi_float64_array, (size_t)end, "fillNormal", 1))
    return NULL;
  const double spare = end > start ? fill_normal(st.data, (double *)out.data + start, end - start) : NAN;
  napi_value r;
  napi_create_double(env, spare, &r);
  return r;
}

/* logInPlace(x: Float64Array): x ← Math.log(x) by the kernels' own log (for the tests). */
static napi_value js_log_in_place(napi_env env, napi_callback_info info) {
  ARGS(1);
  arr x;
  if (!get_arr(env, argv[0], &x, "logInPlace", 0) || !want(env, &x, napi_float64_array, 0, "logInPlace", 0)) return NULL;
  double *p = x.data;
  for (size_t i = 0; i < x.len; i++) p[i] = v8_log(p[i]);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * groupStats.ts's subsetColumnStats: per-column median (selection) or compensated mean over a
 * subset of rows — aggregating a well's cells. The same transposition into a column-major scratch
 * block, the same quickselect with median-of-three pivots, the same Neumaier sum in row order as
 * the JavaScript twin, so every value is bit-identical.
 */
#define GS_BLOCK 64

static double gs_select(double *a, long lo, long hi, long t) {
  while (hi > lo) {
    if (hi - lo < 16) {
      for (long i = lo + 1; i <= hi; i++) {
        double v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
          a[j + 1] = a[j];
          j--;
        }
        a[j + 1] = v;
      }
      return a[t];
    }
    long mid = (lo + hi) >> 1;
    double x = a[lo], y = a[mid], z = a[hi], tmp;
    if (x > y) tmp = x, x = y, y = tmp;
    if (y > z) tmp = y, y = z, z = tmp;
    if (x > y) tmp = x, x = y, y = tmp;
    double pivot = y;
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (t <= j) hi = j;
    else if (t >= i) lo = i;
    else return a[t];
  }
  return a[t];
}

static double gs_median(double *a, long from, long n) {
  long k = from;
  for (long i = from; i < from + n; i++) {
    double v = a[i];
    if (v == v) a[k++] = v;
  }
  long len = k - from;
  if (len == 0) return NAN;
  long h = from + (len >> 1);
  double upper = gs_select(a, from, k - 1, h);
  if (len & 1) return upper;
  double lower = -INFINITY;
  for (long i = from; i < h; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

static double gs_mean(const double *a, long from, long n) {
  double s = 0, c = 0;
  long k = 0;
  int finite = 1;
  for (long i = from; i < from + n; i++) {
    double v = a[i];
    if (v != v) continue;
    k++;
    if (v - v != 0) finite = 0;
    double t = s + v;
    c += fabs(s) >= fabs(v) ? s - t + v : v - t + s;
    s = t;
  }
  if (k == 0) return NAN;
  return (finite && isfinite(s) ? s + c : s) / (double)k;
}

/* subsetStats(X, cols, rows, op (0 median, 1 mean), out, outOffset, scratch) */
static napi_value js_subset_stats(napi_env env, napi_callback_info info) {
  ARGS(7);
  arr x, rows, out, scratch;
  long cols, op, off;
  if (!get_arr(env, argv[0], &x, "subsetStats", 0) || !get_long(env, argv[1], &cols, "subsetStats", 1) ||
      !get_arr(env, argv[2], &rows, "subsetStats", 2) || !get_long(env, argv[3], &op, "subsetStats", 3) ||
      !get_arr(env, argv[4], &out, "subsetStats", 4) || !get_long(env, argv[5], &off, "subsetStats", 5) ||
      !get_arr(env, argv[6], &scratch, "subsetStats", 6))
    return NULL;
  const long m = (long)rows.len;
  const long w0 = cols < GS_BLOCK ? cols : GS_BLOCK;
  if (!want(env, &x, napi_float64_array, 0, "subsetStats", 0) || !want(env, &rows, napi_int32_array, 0, "subsetStats", 2) ||
      !want(env, &out, napi_float64_array, 0, "subsetStats", 4) || !want(env, &scratch, napi_float64_array, 0, "subsetStats", 6))
    return NULL;
  if (cols < 0 || off < 0 || (size_t)(off + cols) > out.len || scratch.len < (size_t)(m * w0)) {
    napi_throw_range_error(env, NULL, "subsetStats: output or scratch too small");
    return NULL;
  }
  const int32_t *r = (const int32_t *)rows.data;
  for (long i = 0; i < m; i++) {
    if (r[i] < 0 || (size_t)(r[i] + 1) * (size_t)cols > x.len) {
      napi_throw_range_error(env, NULL, "subsetStats: a row index is outside the block");
      return NULL;
    }
  }
  double *X = x.data, *o = out.data, *sc = scratch.data;
  if (m == 0) {
    for (long j = 0; j < cols; j++) o[off + j] = NAN;
    return NULL;
  }
  for (long j0 = 0; j0 < cols; j0 += GS_BLOCK) {
    long w = cols - j0 < GS_BLOCK ? cols - j0 : GS_BLOCK;
    for (long i = 0; i < m; i++) {
      const double *src = X + (size_t)r[i] * (size_t)cols + j0;
      for (long q = 0; q < w; q++) sc[q * m + i] = src[q];
    }
    for (long q = 0; q < w; q++) o[off + j0 + q] = op == 0 ? gs_median(sc, q * m, m) : gs_mean(sc, q * m, m);
  }
  return NULL;
}

/* softAssignRows(D, R, P, logP, codes, rows, t0, t1, K, c, ent, km, threads): see soft_rows. */
static napi_value js_soft_assign_rows(napi_env env, napi_callback_info info) {
  ARGS(13);
  arr D, R, P, LP, codes, rows, ent, km;
  long t0, t1, K, threads;
  double c;
  if (!get_arr(env, argv[0], &D, "softAssignRows", 0) || !get_arr(env, argv[1], &R, "softAssignRows", 1) ||
      !get_arr(env, argv[2], &P, "softAssignRows", 2) || !get_arr(env, argv[3], &LP, "softAssignRows", 3) ||
      !get_arr(env, argv[4], &codes, "softAssignRows", 4) || !get_arr(env, argv[5], &rows, "softAssignRows", 5) ||
      !get_long(env, argv[6], &t0, "softAssignRows", 6) || !get_long(env, argv[7], &t1, "softAssignRows", 7) ||
      !get_long(env, argv[8], &K, "softAssignRows", 8) || napi_get_value_double(env, argv[9], &c) != napi_ok ||
      !get_arr(env, argv[10], &ent, "softAssignRows", 10) || !get_arr(env, argv[11], &km, "softAssignRows", 11) ||
      !get_long(env, argv[12], &threads, "softAssignRows", 12))
    return NULL;
  const size_t n = codes.len;
  if (!want(env, &D, napi_float64_array, n * (size_t)K, "softAssignRows", 0) || !want(env, &R, napi_float64_array, n * (size_t)K, "softAssignRows", 1) ||
      !want(env, &P, napi_float64_array, 0, "softAssignRows", 2) || !want(env, &LP, napi_float64_array, P.len, "softAssignRows", 3) ||
      !want(env, &codes, napi_int32_array, 0, "softAssignRows", 4) || !want(env, &rows, napi_int32_array, (size_t)t1, "softAssignRows", 5) ||
      !want(env, &ent, napi_float64_array, n, "softAssignRows", 10) || !want(env, &km, napi_float64_array, n, "softAssignRows", 11))
    return NULL;
  const int32_t *cd = codes.data, *rw = rows.data;
  for (long t = t0; t < t1; t++) {
    if (rw[t] < 0 || (size_t)rw[t] >= n || cd[rw[t]] < 0 || (size_t)(cd[rw[t]] + 1) * (size_t)K > P.len) {
      napi_throw_range_error(env, NULL, "softAssignRows: a row or its group is outside the arrays");
      return NULL;
    }
  }
  int T = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : (int)threads;
  if (t1 - t0 < 2L * T) T = 1;
  double *scratch = malloc((size_t)T * (size_t)(K > 0 ? K : 1) * sizeof(double));
  if (!scratch) {
    napi_throw_error(env, NULL, "softAssignRows: out of memory");
    return NULL;
  }
  soft_job jobs[MAX_THREADS];
  for (int q = 0; q < T; q++) {
    jobs[q] = (soft_job){D.data, P.data, LP.data, R.data, ent.data, km.data, scratch + (size_t)q * (size_t)K, cd, rw,
                         t0 + (t1 - t0) * q / T, t0 + (t1 - t0) * (q + 1) / T, K, c};
  }
  run_parallel(soft_task, jobs, sizeof(soft_job), T);
  free(scratch);
  return NULL;
}

/* addRowMasses(R, codes, rows, t0, t1, K, sub, sum, O, F | null, threads): see mass_cols. */
static napi_value js_add_row_masses(napi_env env, napi_callback_info info) {
  ARGS(11);
  arr R, codes, rows, sum, O, F = {NULL, 0, napi_float64_array};
  long t0, t1, K, sub, threads;
  napi_valuetype ft;
  if (!get_arr(env, argv[0], &R, "addRowMasses", 0) || !get_arr(env, argv[1], &codes, "addRowMasses", 1) ||
      !get_arr(env, argv[2], &rows, "addRowMasses", 2) || !get_long(env, argv[3], &t0, "addRowMasses", 3) ||
      !get_long(env, argv[4], &t1, "addRowMasses", 4) || !get_long(env, argv[5], &K, "addRowMasses", 5) ||
      !get_long(env, argv[6], &sub, "addRowMasses", 6) || !get_arr(env, argv[7], &sum, "addRowMasses", 7) ||
      !get_arr(env, argv[8], &O, "addRowMasses", 8) || !get_long(env, argv[10], &threads, "addRowMasses", 10))
    return NULL;
  if (napi_typeof(env, argv[9], &ft) != napi_ok) return NULL;
  if (ft != napi_null && ft != napi_undefined && !get_arr(env, argv[9], &F, "addRowMasses", 9)) return NULL;
  const size_t n = codes.len;
  if (!want(env, &R, napi_float64_array, n * (size_t)K, "addRowMasses", 0) || !want(env, &codes, napi_int32_array, 0, "addRowMasses", 1) ||
      !want(env, &rows, napi_int32_array, (size_t)t1, "addRowMasses", 2) || !want(env, &sum, napi_float64_array, (size_t)K, "addRowMasses", 7) ||
      !want(env, &O, napi_float64_array, 0, "addRowMasses", 8) || (F.data && !want(env, &F, napi_float64_array, O.len, "addRowMasses", 9)))
    return NULL;
  const int32_t *cd = codes.data, *rw = rows.data;
  for (long t = t0; t < t1; t++) {
    if (rw[t] < 0 || (size_t)rw[t] >= n || cd[rw[t]] < 0 || (size_t)(cd[rw[t]] + 1) * (size_t)K > O.len) {
      napi_throw_range_error(env, NULL, "addRowMasses: a row or its group is outside the arrays");
      return NULL;
    }
  }
  int T = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : (int)threads;
  if (K < 8L * T) T = 1;
  mass_job jobs[MAX_THREADS];
  for (int q = 0; q < T; q++)
    jobs[q] = (mass_job){R.data, sum.data, O.data, F.data, cd, rw, t0, t1, K, K * q / T, K * (q + 1) / T, sub ? 1 : 0};
  run_parallel(mass_task, jobs, sizeof(mass_job), T);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * blockedCholesky.ts's lowerInverse: M = L⁻¹ for a lower-triangular t × t L (M zeroed by the
 * caller), column c by forward substitution on e_c: v_c = 1 / L_cc, v_i = −(Σ_{k=c}^{i−1} L_ik·v_k)
 * / L_ii, every sum from +0 in k order — the twin's operations. Eight columns run side by side as
 * in the twin, here in the lanes of two vectors (the scratch V holds row k's eight values
 * contiguously); each lane's sum starts at its own column (the few terms before the vectors take
 * over are added one lane at a time), so every entry is the twin's sum in the twin's order.
 */
#define LINV_W 8

MULTIVERSION
static void lower_inverse(const double *l, double *m, long t, double *V) {
  for (long c0 = 0; c0 < t; c0 += LINV_W) {
    const long nc = t - c0 < LINV_W ? t - c0 : LINV_W, top = c0 + nc;
    memset(V, 0, sizeof(double) * (size_t)t * LINV_W);
    /* Rows c0 … top − 1, one column at a time. */
    for (long j = 0; j < nc; j++) {
      const long c = c0 + j;
      V[c * LINV_W + j] = 1 / l[c * t + c];
      for (long i = c + 1; i < top; i++) {
        double s = 0;
        for (long k = c; k < i; k++) s += l[i * t + k] * V[k * LINV_W + j];
        V[i * LINV_W + j] = -s / l[i * t + i];
      }
    }
    for (long i = top; i < t; i++) {
      const double *li = l + i * t;
      const double d = li[i];
      if (nc < LINV_W) {
        /* The last, narrower group: one column at a time. */
        for (long j = 0; j < nc; j++) {
          double s = 0;
          for (long k = c0 + j; k < i; k++) s += li[k] * V[k * LINV_W + j];
          V[i * LINV_W + j] = -s / d;
        }
        continue;
      }
      /* Column c0 + j's sum starts at k = c0 + j: the first seven k one lane at a time. */
      double s[LINV_W] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (long k = c0; k < top - 1; k++) {
        const long r = k - c0;
        for (long j = 0; j <= r; j++) s[j] += li[k] * V[k * LINV_W + j];
      }
      v4d a0 = {s[0], s[1], s[2], s[3]}, a1 = {s[4], s[5], s[6], s[7]};
      for (long k = top - 1; k < i; k++) {
        const double a = li[k];
        const v4d av = {a, a, a, a};
        a0 = a0 + av * loadu(V + k * LINV_W);
        a1 = a1 + av * loadu(V + k * LINV_W + 4);
      }
      for (int j = 0; j < 4; j++) {
        V[i * LINV_W + j] = -a0[j] / d;
        V[i * LINV_W + 4 + j] = -a1[j] / d;
      }
    }
    for (long j = 0; j < nc; j++) {
      const long c = c0 + j;
      for (long i = c; i < t; i++) m[i * t + c] = V[i * LINV_W + j];
    }
  }
}

/* lowerInverse(L, M, t): M ← L⁻¹ (t × t, row-major; M zeroed by the caller). */
static napi_value js_lower_inverse(napi_env env, napi_callback_info info) {
  ARGS(3);
  arr L, M;
  long t;
  if (!get_arr(env, argv[0], &L, "lowerInverse", 0) || !get_arr(env, argv[1], &M, "lowerInverse", 1) || !get_long(env, argv[2], &t, "lowerInverse", 2)) return NULL;
  if (t < 0 || !want(env, &L, napi_float64_array, (size_t)t * (size_t)t, "lowerInverse", 0) || !want(env, &M, napi_float64_array, (size_t)t * (size_t)t, "lowerInverse", 1)) return NULL;
  if (t == 0) return NULL;
  double *V = malloc(sizeof(double) * (size_t)t * LINV_W);
  if (!V) {
    napi_throw_error(env, NULL, "lowerInverse: out of memory");
    return NULL;
  }
  lower_inverse(L.data, M.data, t, V);
  free(V);
  return NULL;
}

/* expInPlace(x: Float64Array): x ← Math.exp(x) by the kernels' own exp (for the tests). */
static napi_value js_exp_in_place(napi_env env, napi_callback_info info) {
  ARGS(1);
  arr x;
  if (!get_arr(env, argv[0], &x, "expInPlace", 0) || !want(env, &x, napi_float64_array, 0, "expInPlace", 0)) return NULL;
  double *p = x.data;
  for (size_t i = 0; i < x.len; i++) p[i] = v8_exp(p[i]);
  return NULL;
}

/* adamStep(w, g, m, v: Float64Array (same length), lrT, decay, b1, b2, eps): linalg/adam.ts's loop. */
static napi_value js_adam_step(napi_env env, napi_callback_info info) {
  ARGS(9);
  arr w, g, m, v;
  if (!get_arr(env, argv[0], &w, "adamStep", 0) || !get_arr(env, argv[1], &g, "adamStep", 1) ||
      !get_arr(env, argv[2], &m, "adamStep", 2) || !get_arr(env, argv[3], &v, "adamStep", 3))
    return NULL;
  const size_t n = w.len;
  if (!want(env, &w, napi_float64_array, n, "adamStep", 0) || !want(env, &g, napi_float64_array, n, "adamStep", 1) ||
      !want(env, &m, napi_float64_array, n, "adamStep", 2) || !want(env, &v, napi_float64_array, n, "adamStep", 3))
    return NULL;
  double x[5];
  for (int a = 0; a < 5; a++) {
    if (napi_get_value_double(env, argv[4 + a], &x[a]) != napi_ok) {
      napi_throw_type_error(env, NULL, "adamStep: arguments 4 to 8 must be numbers");
      return NULL;
    }
  }
  adam_step(w.data, g.data, m.data, v.data, (long)n, x[0], x[1], x[2], x[3], x[4]);
  return NULL;
}

/* adviseHuge(x: TypedArray): the huge-page hint for a large array not yet touched (AP's R and A). */
static napi_value js_advise_huge(napi_env env, napi_callback_info info) {
  ARGS(1);
  arr x;
  if (!get_arr(env, argv[0], &x, "adviseHuge", 0)) return NULL;
  const size_t width = x.type == napi_float64_array ? 8 : x.type == napi_float32_array || x.type == napi_int32_array ? 4 : 1;
  advise_huge(x.data, x.len * width);
  /* The element index of the first 2 MiB boundary in the array (its end when there is none), so a
     caller can place a view where a whole huge page backs it. */
  const uintptr_t H = (uintptr_t)1 << 21, p = (uintptr_t)x.data;
  const uintptr_t off = (((p + H - 1) & ~(H - 1)) - p) / width;
  napi_value r;
  napi_create_double(env, (double)(off < x.len ? off : x.len), &r);
  return r;
}

/* candDistances(x, n, d, cand, stride, out, threads): finish's exact candidate distances. */
static napi_value js_cand_distances(napi_env env, napi_callback_info info) {
  ARGS(7);
  arr x, cand, out;
  long n, d, stride, threads;
  if (!get_arr(env, argv[0], &x, "candDistances", 0) || !get_long(env, argv[1], &n, "candDistances", 1) ||
      !get_long(env, argv[2], &d, "candDistances", 2) || !get_arr(env, argv[3], &cand, "candDistances", 3) ||
      !get_long(env, argv[4], &stride, "candDistances", 4) || !get_arr(env, argv[5], &out, "candDistances", 5) ||
      !get_long(env, argv[6], &threads, "candDistances", 6))
    return NULL;
  if (!f64_or_f32(&x) || x.len < (size_t)(n * d)) {
    napi_throw_range_error(env, NULL, "candDistances: x must be a float64 or float32 array of n×d values");
    return NULL;
  }
  if (!want(env, &cand, napi_int32_array, (size_t)(n * stride), "candDistances", 3) ||
      !want(env, &out, napi_float64_array, (size_t)(n * stride), "candDistances", 5))
    return NULL;
  const int32_t *cd = cand.data;
  for (size_t t = 0; t < (size_t)(n * stride); t++)
    if (cd[t] >= n) {
      napi_throw_range_error(env, NULL, "candDistances: a candidate index is out of range");
      return NULL;
    }
  int T = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : (int)threads;
  if (T > n) T = n > 0 ? (int)n : 1;
  cand_job jobs[MAX_THREADS];
  for (int t = 0; t < T; t++)
    jobs[t] = (cand_job){x.data, x.type == napi_float32_array, d, stride, n * t / T, n * (t + 1) / T, cd, (double *)out.data};
  run_parallel(cand_task, jobs, sizeof(cand_job), T);
  return NULL;
}

/*
 * knnTopM(x, n, d, M, out, threads) → false when memory could not be had: out (n × M int32) gets
 * each row's M nearest other rows by squared Euclidean distance (any order), exactly the set
 * knnGraph.ts's exactKnn keeps in its heaps — the same Gram sums (the symmetric product's upper
 * triangle, each pair computed once), the same distance expression and the same (distance, index)
 * order. Each thread offers its tiles to heaps of its own (the pair (i, j) to both rows), so no
 * locks; the sets are merged at the end, and since every pair was offered to exactly one set the
 * union's M best are the overall M best whatever the thread count. Memory: threads × n × M × 12
 * bytes of heaps; no n × n (or n × panel) product is ever stored.
 */
static napi_value js_knn_top_m(napi_env env, napi_callback_info info) {
  ARGS(6);
  arr x, out;
  long n, d, M, threads;
  if (!get_arr(env, argv[0], &x, "knnTopM", 0) || !get_long(env, argv[1], &n, "knnTopM", 1) ||
      !get_long(env, argv[2], &d, "knnTopM", 2) || !get_long(env, argv[3], &M, "knnTopM", 3) ||
      !get_arr(env, argv[4], &out, "knnTopM", 4) || !get_long(env, argv[5], &threads, "knnTopM", 5))
    return NULL;
  if (!f64_or_f32(&x) || x.len < (size_t)(n * d) || d < 1 || M < 1 || M > n - 1) {
    napi_throw_range_error(env, NULL, "knnTopM: x must be a float64 or float32 array of n×d values and 1 <= M <= n - 1");
    return NULL;
  }
  if (!want(env, &out, napi_int32_array, (size_t)(n * M), "knnTopM", 4)) return NULL;
  int T = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : (int)threads;
  const int f32 = x.type == napi_float32_array;
  knn_heaps H[MAX_THREADS];
  memset(H, 0, sizeof H);
  double *nrm = malloc(sizeof(double) * (size_t)n);
  int ok = nrm != NULL;
  for (int t = 0; t < T && ok; t++) {
    H[t].M = M;
    H[t].hd = malloc(sizeof(double) * (size_t)(n * M));
    H[t].hi = malloc(sizeof(int32_t) * (size_t)(n * M));
    H[t].worst = malloc(sizeof(double) * (size_t)n);
    ok = H[t].hd && H[t].hi && H[t].worst;
    if (!ok) break;
    for (long q = 0; q < n * M; q++) {
      H[t].hd[q] = INFINITY;
      H[t].hi[q] = INT32_MAX;
    }
    for (long i = 0; i < n; i++) H[t].worst[i] = INFINITY;
  }
  if (ok) {
    row_sq_norms(x.data, f32, n, d, nrm);
    operand A = {x.data, f32, 0, (int)d};
    ok = nt_compute(A, A, NULL, n, n, d, n, 1, T, nrm, H);
  }
  if (ok) {
    /* Merge: the other sets' entries offered to set 0's heaps, then set 0's indices written out. */
    int32_t *o = out.data;
    for (int t = 1; t < T; t++)
      for (long i = 0; i < n; i++)
        for (long q = 0; q < M; q++)
          if (H[t].hi[i * M + q] != INT32_MAX) knn_offer(&H[0], i, H[t].hd[i * M + q], H[t].hi[i * M + q]);
    memcpy(o, H[0].hi, sizeof(int32_t) * (size_t)(n * M));
  }
  for (int t = 0; t < T; t++) {
    free(H[t].hd);
    free(H[t].hi);
    free(H[t].worst);
  }
  free(nrm);
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Sparse affinity propagation: one sweep over the stored entries (cluster/                      */
/* sparseAffinityPropagation.ts's `pass`, its JavaScript twin, operation for operation)          */
/* ------------------------------------------------------------------------------------------ */

static inline double pos0(double x) { return x > 0 ? x : 0.0; } /* Math.max(x, 0) for finite x */

static inline void sap_push(double v, long p, double *y1, double *y2, long *I) {
  if (v > *y2) {
    if (v > *y1) {
      *y2 = *y1;
      *y1 = v;
      *I = p;
    } else
      *y2 = v;
  }
}

static long sap_pass(const int32_t *restrict indptr, const int32_t *restrict indices, const int32_t *restrict diag,
                     const double *restrict S, double *restrict R, double *restrict A, const double *restrict cs,
                     double *restrict ncs, uint8_t *restrict E, int32_t *restrict run, long n, double d, double omd,
                     int doAvail, int doResp) {
  if (doResp)
    for (long j = 0; j < n; j++) ncs[j] = 0;
  long K = 0;
  for (long i = 0; i < n; i++) {
    const long p0 = indptr[i], p1 = indptr[i + 1], pd = diag[i];
    const double rii = R[pd];
    double y1 = -INFINITY, y2 = -INFINITY;
    long I = pd;
    if (doAvail) {
      for (long p = p0; p < pd; p++) {
        const double a = A[p] * d - pos0(pos0(R[p]) - cs[indices[p]]) * omd;
        A[p] = a;
        sap_push(a + S[p], p, &y1, &y2, &I);
      }
      {
        const double a = A[pd] * d - (rii - cs[i]) * omd;
        A[pd] = a;
        sap_push(a + S[pd], pd, &y1, &y2, &I);
      }
      for (long p = pd + 1; p < p1; p++) {
        const double a = A[p] * d - pos0(pos0(R[p]) - cs[indices[p]]) * omd;
        A[p] = a;
        sap_push(a + S[p], p, &y1, &y2, &I);
      }
      const uint8_t e = A[pd] + rii > 0 ? 1 : 0;
      if (e == E[i])
        run[i]++;
      else {
        E[i] = e;
        run[i] = 1;
      }
      K += e;
    } else if (doResp) {
      for (long p = p0; p < p1; p++) sap_push(A[p] + S[p], p, &y1, &y2, &I);
    }
    if (!doResp) continue;
    const long lo = I < pd ? I : pd, hi = I < pd ? pd : I;
    for (int seg = 0; seg < 3; seg++) {
      const long a0 = seg == 0 ? p0 : seg == 1 ? lo + 1 : hi + 1;
      const long a1 = seg == 0 ? lo : seg == 1 ? hi : p1;
      for (long p = a0; p < a1; p++) {
        const double r = R[p] * d + (S[p] - y1) * omd;
        R[p] = r;
        const long j = indices[p];
        ncs[j] = ncs[j] + pos0(r);
      }
    }
    if (I != pd) {
      const double rI = R[I] * d + (S[I] - y2) * omd;
      R[I] = rI;
      const long j = indices[I];
      ncs[j] = ncs[j] + pos0(rI);
      const double rd = rii * d + (S[pd] - y1) * omd;
      R[pd] = rd;
      ncs[i] = ncs[i] + rd;
    } else {
      const double rd = rii * d + (S[pd] - y2) * omd;
      R[pd] = rd;
      ncs[i] = ncs[i] + rd;
    }
  }
  return K;
}

/*
 * sparseApPass(indptr, indices, diag, S, R, A, cs, ncs, E, run, n, d, omd, doAvail, doResp) → K.
 * The caller (sparseAffinityPropagation.ts) validated the CSR structure once.
 */
static napi_value js_sparse_ap_pass(napi_env env, napi_callback_info info) {
  ARGS(15);
  arr ip, ix, dg, S, R, A, cs, ncs, E, run;
  long n, doAvail, doResp;
  double d, omd;
  const char *fn = "sparseApPass";
  if (!get_arr(env, argv[0], &ip, fn, 0) || !get_arr(env, argv[1], &ix, fn, 1) || !get_arr(env, argv[2], &dg, fn, 2) ||
      !get_arr(env, argv[3], &S, fn, 3) || !get_arr(env, argv[4], &R, fn, 4) || !get_arr(env, argv[5], &A, fn, 5) ||
      !get_arr(env, argv[6], &cs, fn, 6) || !get_arr(env, argv[7], &ncs, fn, 7) || !get_arr(env, argv[8], &E, fn, 8) ||
      !get_arr(env, argv[9], &run, fn, 9) || !get_long(env, argv[10], &n, fn, 10))
    return NULL;
  if (napi_get_value_double(env, argv[11], &d) != napi_ok || napi_get_value_double(env, argv[12], &omd) != napi_ok ||
      !get_long(env, argv[13], &doAvail, fn, 13) || !get_long(env, argv[14], &doResp, fn, 14)) {
    napi_throw_type_error(env, NULL, "sparseApPass: arguments 11–14 must be numbers");
    return NULL;
  }
  if (!want(env, &ip, napi_int32_array, (size_t)n + 1, fn, 0) || !want(env, &dg, napi_int32_array, (size_t)n, fn, 2) ||
      !want(env, &cs, napi_float64_array, (size_t)n, fn, 6) || !want(env, &ncs, napi_float64_array, (size_t)n, fn, 7) ||
      !want(env, &E, napi_uint8_array, (size_t)n, fn, 8) || !want(env, &run, napi_int32_array, (size_t)n, fn, 9))
    return NULL;
  const int32_t *indptr = ip.data;
  const size_t nnz = n > 0 ? (size_t)indptr[n] : 0;
  if (!want(env, &ix, napi_int32_array, nnz, fn, 1) || !want(env, &S, napi_float64_array, nnz, fn, 3) ||
      !want(env, &R, napi_float64_array, nnz, fn, 4) || !want(env, &A, napi_float64_array, nnz, fn, 5))
    return NULL;
  const long K = sap_pass(indptr, ix.data, dg.data, S.data, R.data, A.data, cs.data, ncs.data, E.data, run.data, n, d, omd,
                          (int)doAvail, (int)doResp);
  napi_value r;
  napi_create_int64(env, K, &r);
  return r;
}

static napi_value js_simd(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_cpu_init();
  napi_create_string_utf8(env, MR == 8 ? "avx512" : __builtin_cpu_supports("avx2") ? "avx2" : "sse2", NAPI_AUTO_LENGTH, &r);
#else
  napi_create_string_utf8(env, "generic", NAPI_AUTO_LENGTH, &r);
#endif
  return r;
}

/* The packed-B buffer belongs to the JavaScript thread that used it: freed when it ends. */
static void free_thread_buffers(void *arg) {
  (void)arg;
  free(tl_bbuf);
  tl_bbuf = NULL;
  tl_bcap = 0;
  free(tl_fbuf);
  tl_fbuf = NULL;
  tl_fcap = 0;
}

NAPI_MODULE_INIT() {
  pick_micro();
  napi_add_env_cleanup_hook(env, free_thread_buffers, NULL);
  const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"nt", js_nt},
      {"ntF32", js_nt_f32},
      {"sqdist", js_sqdist},
      {"colMoments", js_col_moments},
      {"colMeanM2", js_col_mean_m2},
      {"colStandardize", js_col_standardize},
      {"centerRows", js_center_rows},
      {"tred2", js_tred2},
      {"tql", js_tql},
      {"inverseVectors", js_inverse_vectors},
      {"houseApply", js_house_apply},
      {"apPass", js_ap_pass},
      {"fillNormal", js_fill_normal},
      {"logInPlace", js_log_in_place},
      {"subsetStats", js_subset_stats},
      {"simd", js_simd},
      {"adviseHuge", js_advise_huge},
      {"candDistances", js_cand_distances},
      {"knnTopM", js_knn_top_m},
      {"sparseApPass", js_sparse_ap_pass},
      {"softAssignRows", js_soft_assign_rows},
      {"expInPlace", js_exp_in_place},
      {"addRowMasses", js_add_row_masses},
      {"adamStep", js_adam_step},
      {"lowerInverse", js_lower_inverse},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}
