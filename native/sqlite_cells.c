/*
 * phenomap's SQLite extension, loaded into better-sqlite3's own SQLite (sqlite3ext.h API), for
 * reading CellProfiler databases of any size at the speed of SQLite's record decoder.
 *
 * 1. A VFS shim, "phenomap-whole-pages", registered as the default VFS, that reports the real
 *    file without SQLITE_IOCAP_SUBPAGE_READ. Why: with that capability this SQLite (3.53) reads a
 *    value lying on an overflow page straight from the file with a pread of just its bytes — one
 *    system call per value, since a 500-column CellProfiler row spans several 4 KiB pages: ≈ 2 µs a
 *    value, 17× slower than through the page cache (bench/singlecell.ts, the strace in its notes).
 *    Without it SQLite reads overflow pages whole through its cache, as older SQLite did. Nothing
 *    else changes; SQLite's own memory mapping, capped at 2 GiB in this build, is not needed.
 *
 * 2. phenomap_f64(x1, …, xk): the row's values as one BLOB of k little-endian doubles followed by
 *    two more: the number of values stored as text that were read as numbers, and the 0-based
 *    position of the first value that is not a number (-1 when none). NULL is NaN; INTEGER is
 *    widened; TEXT is parsed as Python's float() would ("nan", "inf", "-Infinity", decimals),
 *    with "", NA, N/A, null, NULL, None as NaN. One BLOB per row instead of k JavaScript values:
 *    the row reaches phenomap as one memcpy.
 *
 * 3. phenomap_rows(root, from, to, cols, max): rows decoded straight from the table's b-tree
 *    pages, each row's overflow chain read once (sqlite_records.c).
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------------------------
 * The VFS shim: the real VFS's files, one capability less.
 */

typedef struct ShimFile {
  sqlite3_file base;
  sqlite3_file *real; /* the real VFS's file, allocated right after this struct */
} ShimFile;

static sqlite3_vfs shim;
static sqlite3_vfs *realVfs;

#define REAL(f) (((ShimFile *)(f))->real)

static int sfClose(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int sfRead(sqlite3_file *f, void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xRead(REAL(f), b, n, o); }
static int sfWrite(sqlite3_file *f, const void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xWrite(REAL(f), b, n, o); }
static int sfTruncate(sqlite3_file *f, sqlite3_int64 s) { return REAL(f)->pMethods->xTruncate(REAL(f), s); }
static int sfSync(sqlite3_file *f, int fl) { return REAL(f)->pMethods->xSync(REAL(f), fl); }
static int sfFileSize(sqlite3_file *f, sqlite3_int64 *s) { return REAL(f)->pMethods->xFileSize(REAL(f), s); }
static int sfLock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int sfUnlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int sfCheckReservedLock(sqlite3_file *f, int *r) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r); }
static int sfFileControl(sqlite3_file *f, int op, void *a) { return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int sfSectorSize(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int sfDeviceCharacteristics(sqlite3_file *f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)) & ~SQLITE_IOCAP_SUBPAGE_READ;
}
static int sfShmMap(sqlite3_file *f, int i, int sz, int e, void volatile **p) { return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, e, p); }
static int sfShmLock(sqlite3_file *f, int o, int n, int fl) { return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl); }
static void sfShmBarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int sfShmUnmap(sqlite3_file *f, int d) { return REAL(f)->pMethods->xShmUnmap(REAL(f), d); }
static int sfFetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp) {
  if (REAL(f)->pMethods->iVersion < 3) {
    *pp = NULL;
    return SQLITE_OK;
  }
  return REAL(f)->pMethods->xFetch(REAL(f), o, n, pp);
}
static int sfUnfetch(sqlite3_file *f, sqlite3_int64 o, void *p) {
  return REAL(f)->pMethods->iVersion < 3 ? SQLITE_OK : REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static const sqlite3_io_methods shimMethods = {
  3, sfClose, sfRead, sfWrite, sfTruncate, sfSync, sfFileSize, sfLock, sfUnlock, sfCheckReservedLock,
  sfFileControl, sfSectorSize, sfDeviceCharacteristics, sfShmMap, sfShmLock, sfShmBarrier, sfShmUnmap,
  sfFetch, sfUnfetch,
};

static int shimOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
  (void)vfs;
  /* Only main databases are wrapped; journals, temp files and the rest are the real VFS's own. */
  if (!(flags & SQLITE_OPEN_MAIN_DB)) return realVfs->xOpen(realVfs, name, f, flags, outFlags);
  ShimFile *s = (ShimFile *)f;
  memset(s, 0, sizeof(ShimFile));
  s->real = (sqlite3_file *)&s[1];
  int rc = realVfs->xOpen(realVfs, name, s->real, flags, outFlags);
  if (rc == SQLITE_OK) s->base.pMethods = &shimMethods;
  return rc;
}

static int shimDelete(sqlite3_vfs *v, const char *n, int s) { return realVfs->xDelete(realVfs, n, s); }
static int shimAccess(sqlite3_vfs *v, const char *n, int fl, int *o) { return realVfs->xAccess(realVfs, n, fl, o); }
static int shimFullPathname(sqlite3_vfs *v, const char *n, int sz, char *o) { return realVfs->xFullPathname(realVfs, n, sz, o); }
static void *shimDlOpen(sqlite3_vfs *v, const char *n) { return realVfs->xDlOpen(realVfs, n); }
static void shimDlError(sqlite3_vfs *v, int n, char *m) { realVfs->xDlError(realVfs, n, m); }
static void (*shimDlSym(sqlite3_vfs *v, void *h, const char *s))(void) { return realVfs->xDlSym(realVfs, h, s); }
static void shimDlClose(sqlite3_vfs *v, void *h) { realVfs->xDlClose(realVfs, h); }
static int shimRandomness(sqlite3_vfs *v, int n, char *o) { return realVfs->xRandomness(realVfs, n, o); }
static int shimSleep(sqlite3_vfs *v, int us) { return realVfs->xSleep(realVfs, us); }
static int shimCurrentTime(sqlite3_vfs *v, double *t) { return realVfs->xCurrentTime(realVfs, t); }
static int shimGetLastError(sqlite3_vfs *v, int n, char *b) { return realVfs->xGetLastError ? realVfs->xGetLastError(realVfs, n, b) : 0; }
static int shimCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *t) { return realVfs->xCurrentTimeInt64(realVfs, t); }

static int shimStatus = SQLITE_ERROR;
static pthread_once_t shimOnce = PTHREAD_ONCE_INIT;

/* Once per process, whichever worker thread loads the extension first. */
static void registerShimOnce(void) {
  realVfs = sqlite3_vfs_find(NULL);
  if (!realVfs || realVfs->iVersion < 2) return;
  memset(&shim, 0, sizeof(shim));
  shim.iVersion = 2;
  shim.szOsFile = (int)sizeof(ShimFile) + realVfs->szOsFile;
  shim.mxPathname = realVfs->mxPathname;
  shim.zName = "phenomap-whole-pages";
  shim.xOpen = shimOpen;
  shim.xDelete = shimDelete;
  shim.xAccess = shimAccess;
  shim.xFullPathname = shimFullPathname;
  shim.xDlOpen = shimDlOpen;
  shim.xDlError = shimDlError;
  shim.xDlSym = shimDlSym;
  shim.xDlClose = shimDlClose;
  shim.xRandomness = shimRandomness;
  shim.xSleep = shimSleep;
  shim.xCurrentTime = shimCurrentTime;
  shim.xGetLastError = shimGetLastError;
  shim.xCurrentTimeInt64 = shimCurrentTimeInt64;
  shimStatus = sqlite3_vfs_register(&shim, 1);
}

static int registerShim(void) {
  pthread_once(&shimOnce, registerShimOnce);
  return shimStatus;
}

/* phenomap_rows, the direct record reader (sqlite_records.c). */
int phenomapRegisterRows(sqlite3 *db);

/* ---------------------------------------------------------------------------------------------
 * phenomap_f64
 */

static int isMissingText(const char *s, int n) {
  static const char *missing[] = {"NA", "N/A", "null", "NULL", "None"};
  if (n == 0) return 1;
  for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
    if ((int)strlen(missing[i]) == n && memcmp(s, missing[i], (size_t)n) == 0) return 1;
  }
  return 0;
}

/*
 * The number a text value stands for, as Python's float() reads it (pycytominer's conversion):
 * a decimal number, or nan / inf / infinity in any case with an optional sign. Returns 0 when the
 * text is not a number.
 */
static int textNumber(const unsigned char *t, int n, double *out) {
  char buf[64];
  while (n > 0 && (*t == ' ' || *t == '\t')) t++, n--;
  while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n')) n--;
  if (isMissingText((const char *)t, n)) {
    *out = NAN;
    return 1;
  }
  if (n >= (int)sizeof(buf)) return 0;
  memcpy(buf, t, (size_t)n);
  buf[n] = 0;
  const char *body = buf + ((buf[0] == '+' || buf[0] == '-') ? 1 : 0);
  if (strcasecmp(body, "nan") == 0 || strcasecmp(body, "inf") == 0 || strcasecmp(body, "infinity") == 0) {
    *out = strtod(buf, NULL);
    return 1;
  }
  /* Otherwise digits, one point, an exponent: strtod's hex floats and the like are refused. */
  for (int i = 0; i < n; i++) {
    char c = buf[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return 0;
  }
  char *end = NULL;
  double v = strtod(buf, &end);
  if (end == buf || *end != 0) return 0;
  *out = v;
  return 1;
}

static void f64Func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  size_t bytes = ((size_t)argc + 2) * sizeof(double);
  double *out = (double *)sqlite3_malloc64(bytes);
  if (!out) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  double text = 0, bad = -1;
  for (int i = 0; i < argc; i++) {
    sqlite3_value *v = argv[i];
    switch (sqlite3_value_type(v)) {
      case SQLITE_FLOAT:
      case SQLITE_INTEGER:
        out[i] = sqlite3_value_double(v);
        break;
      case SQLITE_NULL:
        out[i] = NAN;
        break;
      case SQLITE_TEXT: {
        double x;
        if (textNumber(sqlite3_value_text(v), sqlite3_value_bytes(v), &x)) {
          out[i] = x;
          text += 1;
        } else {
          out[i] = NAN;
          if (bad < 0) bad = i;
        }
        break;
      }
      default: /* BLOB */
        out[i] = NAN;
        if (bad < 0) bad = i;
    }
  }
  out[argc] = text;
  out[argc + 1] = bad;
  sqlite3_result_blob64(ctx, out, bytes, sqlite3_free);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_extension_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  (void)err;
  int rc = registerShim();
  if (rc != SQLITE_OK) return rc;
  rc = phenomapRegisterRows(db);
  if (rc != SQLITE_OK) return rc;
  return sqlite3_create_function_v2(db, "phenomap_f64", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, f64Func, NULL, NULL, NULL);
}

/* The entry point SQLite derives from the file name phenomap_sqlite.node. */
int sqlite3_phenomapsqlite_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  return sqlite3_extension_init(db, err, api);
}
