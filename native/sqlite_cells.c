/*
 * phenomap's SQLite extension, loaded into better-sqlite3's own SQLite (sqlite3ext.h API), for
 * reading CellProfiler databases of any size at the speed of SQLite's record decoder.
 *
 * 1. A VFS shim, "phenomap-mmap", registered as the default VFS. For a main database opened
 *    read-only it maps the whole file once and serves the pager's page fetches (xFetch) and reads
 *    (xRead) from that mapping. Why: SQLite caps its own mapping at SQLITE_MAX_MMAP_SIZE (2 GiB in
 *    better-sqlite3's build); past it, this SQLite reads every value on an overflow page with its
 *    own pread (a 500-column row spans several 4 KiB pages), ≈ 2 µs a value instead of ≈ 0.1 µs
 *    (bench/singlecell.ts). Every other file, and every write, goes to the real VFS untouched.
 *
 * 2. phenomap_f64(x1, …, xk): the row's values as one BLOB of k little-endian doubles followed by
 *    two more: the number of values stored as text that were read as numbers, and the 0-based
 *    position of the first value that is not a number (-1 when none). NULL is NaN; INTEGER is
 *    widened; TEXT is parsed as Python's float() would ("nan", "inf", "-Infinity", decimals),
 *    with "", NA, N/A, null, NULL, None as NaN. One BLOB per row instead of k JavaScript values:
 *    the row reaches phenomap as one memcpy.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
 * The VFS shim
 */

typedef struct MapFile {
  sqlite3_file base;
  const unsigned char *map; /* whole file, read-only; NULL when mapping failed */
  sqlite3_int64 size;
  sqlite3_file *real;       /* the real VFS's file, allocated right after this struct */
} MapFile;

static sqlite3_vfs shim;
static sqlite3_vfs *realVfs;

#define REAL(f) (((MapFile *)(f))->real)

static int mfClose(sqlite3_file *f) {
  MapFile *m = (MapFile *)f;
  if (m->map) munmap((void *)m->map, (size_t)m->size);
  m->map = NULL;
  return m->real->pMethods->xClose(m->real);
}

static int mfRead(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off) {
  MapFile *m = (MapFile *)f;
  if (m->map && off >= 0 && off + amt <= m->size) {
    memcpy(buf, m->map + off, (size_t)amt);
    return SQLITE_OK;
  }
  return m->real->pMethods->xRead(m->real, buf, amt, off);
}

static int mfWrite(sqlite3_file *f, const void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xWrite(REAL(f), b, n, o); }
static int mfTruncate(sqlite3_file *f, sqlite3_int64 s) { return REAL(f)->pMethods->xTruncate(REAL(f), s); }
static int mfSync(sqlite3_file *f, int fl) { return REAL(f)->pMethods->xSync(REAL(f), fl); }
static int mfFileSize(sqlite3_file *f, sqlite3_int64 *s) { return REAL(f)->pMethods->xFileSize(REAL(f), s); }
static int mfLock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int mfUnlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int mfCheckReservedLock(sqlite3_file *f, int *r) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r); }
static int mfFileControl(sqlite3_file *f, int op, void *a) { return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int mfSectorSize(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int mfDeviceCharacteristics(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int mfShmMap(sqlite3_file *f, int i, int sz, int e, void volatile **p) { return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, e, p); }
static int mfShmLock(sqlite3_file *f, int o, int n, int fl) { return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl); }
static void mfShmBarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int mfShmUnmap(sqlite3_file *f, int d) { return REAL(f)->pMethods->xShmUnmap(REAL(f), d); }

static int mfFetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) {
  MapFile *m = (MapFile *)f;
  if (m->map && off >= 0 && off + amt <= m->size) {
    *pp = (void *)(m->map + off);
    return SQLITE_OK;
  }
  *pp = NULL;
  return SQLITE_OK; /* SQLite reads the page the ordinary way */
}

static int mfUnfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
  (void)f;
  (void)off;
  (void)p;
  return SQLITE_OK; /* pages stay mapped until the file closes */
}

static const sqlite3_io_methods mapMethods = {
  3, mfClose, mfRead, mfWrite, mfTruncate, mfSync, mfFileSize, mfLock, mfUnlock, mfCheckReservedLock,
  mfFileControl, mfSectorSize, mfDeviceCharacteristics, mfShmMap, mfShmLock, mfShmBarrier, mfShmUnmap,
  mfFetch, mfUnfetch,
};

static int shimOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
  (void)vfs;
  int ro = (flags & SQLITE_OPEN_READONLY) && (flags & SQLITE_OPEN_MAIN_DB) && name != NULL;
  if (!ro) return realVfs->xOpen(realVfs, name, f, flags, outFlags); /* not ours: the real file as is */
  MapFile *m = (MapFile *)f;
  memset(m, 0, sizeof(MapFile));
  m->real = (sqlite3_file *)&m[1];
  int rc = realVfs->xOpen(realVfs, name, m->real, flags, outFlags);
  if (rc != SQLITE_OK) return rc;
  m->base.pMethods = &mapMethods;
  int fd = open(name, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) {
        m->map = (const unsigned char *)p;
        m->size = (sqlite3_int64)st.st_size;
      }
    }
    close(fd);
  }
  return SQLITE_OK;
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
  shim.szOsFile = (int)sizeof(MapFile) + realVfs->szOsFile;
  shim.mxPathname = realVfs->mxPathname;
  shim.zName = "phenomap-mmap";
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
  return sqlite3_create_function_v2(db, "phenomap_f64", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, f64Func, NULL, NULL, NULL);
}

/* The entry point SQLite derives from the file name phenomap_sqlite.node. */
int sqlite3_phenomapsqlite_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  return sqlite3_extension_init(db, err, api);
}
