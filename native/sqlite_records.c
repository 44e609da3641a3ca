/*
 * phenomap_rows(root, from, to, cols, max): the rows of a rowid table with from <= rowid <= to
 * (at most max of them), read straight from the database file's b-tree pages instead of through
 * SQLite's record decoder.
 *
 * Why: a 500-column CellProfiler row (≈ 4.5 KB of doubles) spills onto overflow pages, and
 * SQLite's OP_Column walks the overflow chain again for every column it extracts — a third of
 * `cells aggregate`'s time went to accessPayload / pcache fetches. Here a row's payload is
 * assembled once (its local part plus one read of its overflow chain, usually one pread for
 * the whole chain since CellProfiler's writes leave it contiguous) and its record header is
 * walked once.
 *
 * It runs inside an SQL statement that reads sqlite_schema (sqliteSource.ts), so SQLite holds
 * its read lock on the file for the statement's duration (checked with sqlite3_txn_state) and
 * the file is read through SQLite's own file handle (no second descriptor whose close() would
 * drop SQLite's POSIX locks). A database in WAL mode, whose newest pages may live in the -wal
 * file, gives NULL: the caller then uses SQLite's own reader.
 *
 * Result: one BLOB of little-endian doubles: m, then m rowids, then m × k values (column cols[j]
 * of the record, k = number of columns asked for), then m flags. A value that is REAL or INTEGER
 * is the number (integers widened as sqlite3_value_double does); NULL is NaN. A row holding
 * anything else in a wanted column (TEXT such as "nan", a BLOB, or a record shorter than the
 * column asked for, whose value is then the column's default) has flag 1 and is read again by
 * the caller through SQLite, so text is parsed and reported exactly as on the SQLite path.
 *
 * Every offset read from the file is bounds-checked: a damaged or truncated file gives an
 * SQLITE_CORRUPT error naming the page, never a read outside a buffer.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 64
#define MAX_DEPTH 24

typedef struct Reader {
  sqlite3_file *file;
  uint32_t pageSize, usable;
  uint32_t nPages;
  uint8_t change[4];
  int valid;
  /* A small direct-mapped cache of b-tree pages (interior and leaf), keyed by page number. */
  uint32_t slotPage[CACHE_SLOTS];
  uint8_t *slots;
  /* One row's payload, assembled; and a run of overflow pages read at once. */
  uint8_t *payload;
  size_t payloadCap;
  uint8_t *chain;
  size_t chainCap;
  /* Record header of one row: offset and serial type of each column. */
  uint64_t *colOff;
  uint64_t *colType;
  size_t colCap;
  /* One call's rows (values, rowids, flags) and its result, kept between calls: fresh buffers
   * of a few hundred KB per call cost more in page faults than the copying itself. */
  double *vals, *ids, *flags, *out;
  size_t valsCap, idsCap, flagsCap, outCap;
  char err[160];
} Reader;

static void readerReset(Reader *r) {
  free(r->slots);
  r->slots = NULL;
  r->valid = 0;
}

static void readerFree(void *p) {
  Reader *r = (Reader *)p;
  if (!r) return;
  free(r->slots);
  free(r->payload);
  free(r->chain);
  free(r->colOff);
  free(r->colType);
  free(r->vals);
  free(r->ids);
  free(r->flags);
  free(r->out);
  free(r);
}

static int corrupt(Reader *r, const char *what, uint32_t page) {
  sqlite3_snprintf((int)sizeof(r->err), r->err, "database disk image is malformed: %s (page %u)", what, page);
  return SQLITE_CORRUPT;
}

static int readAt(Reader *r, void *buf, size_t n, uint64_t off, uint32_t page) {
  int rc = r->file->pMethods->xRead(r->file, buf, (int)n, (sqlite3_int64)off);
  if (rc == SQLITE_IOERR_SHORT_READ) return corrupt(r, "the file ends inside a page it refers to", page);
  if (rc != SQLITE_OK) {
    sqlite3_snprintf((int)sizeof(r->err), r->err, "cannot read the database file (page %u)", page);
    return rc;
  }
  return SQLITE_OK;
}

static uint32_t be16(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }
static uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

/* A varint at p (never past end); returns its length, 0 when it does not fit. */
static int varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
  uint64_t x = 0;
  for (int i = 0; i < 9; i++) {
    if (p + i >= end) return 0;
    if (i == 8) {
      x = (x << 8) | p[i];
      *v = x;
      return 9;
    }
    x = (x << 7) | (p[i] & 0x7f);
    if (!(p[i] & 0x80)) {
      *v = x;
      return i + 1;
    }
  }
  return 0;
}

/*
 * Page size, usable size and page count from the header, once per read transaction: the file
 * change counter (offset 24) tells whether the cached pages are still the file's.
 * Returns SQLITE_DONE when the file is in WAL mode.
 */
static int readerOpen(Reader *r) {
  uint8_t h[100];
  int rc = readAt(r, h, sizeof h, 0, 1);
  if (rc != SQLITE_OK) return rc;
  if (memcmp(h, "SQLite format 3", 16) != 0) return corrupt(r, "no SQLite header", 1);
  if (h[18] != 1 || h[19] != 1) return SQLITE_DONE; /* 2 = WAL: pages may be newer in the -wal file */
  if (r->valid && memcmp(r->change, h + 24, 4) == 0) return SQLITE_OK;
  readerReset(r);
  uint32_t ps = be16(h + 16);
  if (ps == 1) ps = 65536;
  if (ps < 512 || ps > 65536 || (ps & (ps - 1))) return corrupt(r, "invalid page size in the header", 1);
  uint32_t reserved = h[20];
  if (ps - reserved < 480) return corrupt(r, "invalid reserved space in the header", 1);
  sqlite3_int64 size = 0;
  rc = r->file->pMethods->xFileSize(r->file, &size);
  if (rc != SQLITE_OK) return rc;
  r->pageSize = ps;
  r->usable = ps - reserved;
  /* Pages past the end of the file do not exist, whatever the header's page count says. */
  r->nPages = (uint32_t)((uint64_t)size / ps > 0xffffffffu ? 0xffffffffu : (uint64_t)size / ps);
  r->slots = (uint8_t *)malloc((size_t)CACHE_SLOTS * ps);
  if (!r->slots) return SQLITE_NOMEM;
  memset(r->slotPage, 0, sizeof r->slotPage);
  memcpy(r->change, h + 24, 4);
  r->valid = 1;
  return SQLITE_OK;
}

static int getPage(Reader *r, uint32_t pgno, const uint8_t **out) {
  if (pgno < 1 || pgno > r->nPages) return corrupt(r, "a page number past the end of the file", pgno);
  uint32_t s = pgno % CACHE_SLOTS;
  uint8_t *buf = r->slots + (size_t)s * r->pageSize;
  if (r->slotPage[s] != pgno) {
    r->slotPage[s] = 0;
    int rc = readAt(r, buf, r->pageSize, (uint64_t)(pgno - 1) * r->pageSize, pgno);
    if (rc != SQLITE_OK) return rc;
    r->slotPage[s] = pgno;
  }
  *out = buf;
  return SQLITE_OK;
}

/* A buffer of at least `need` doubles. */
static int growD(double **buf, size_t *cap, size_t need) {
  if (need <= *cap) return SQLITE_OK;
  size_t c = *cap ? *cap : 1024;
  while (c < need) c *= 2;
  double *n = (double *)realloc(*buf, c * sizeof(double));
  if (!n) return SQLITE_NOMEM;
  *buf = n;
  *cap = c;
  return SQLITE_OK;
}

static int grow(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap) return SQLITE_OK;
  size_t c = *cap ? *cap : 8192;
  while (c < need) c *= 2;
  uint8_t *n = (uint8_t *)realloc(*buf, c);
  if (!n) return SQLITE_NOMEM;
  *buf = n;
  *cap = c;
  return SQLITE_OK;
}

/* One b-tree page's header: type, cell count, and where its cell pointers start. */
typedef struct PageView {
  const uint8_t *p;
  uint32_t pgno;
  int leaf;
  uint32_t nCell;
  uint32_t cellPtr; /* offset of the cell pointer array */
  uint32_t right;   /* interior: right-most child */
} PageView;

static int viewPage(Reader *r, uint32_t pgno, PageView *v) {
  int rc = getPage(r, pgno, &v->p);
  if (rc != SQLITE_OK) return rc;
  uint32_t h = pgno == 1 ? 100 : 0;
  v->pgno = pgno;
  uint8_t type = v->p[h];
  if (type == 0x0D) v->leaf = 1;
  else if (type == 0x05) v->leaf = 0;
  else return corrupt(r, "not a table b-tree page", pgno);
  v->nCell = be16(v->p + h + 3);
  v->right = v->leaf ? 0 : be32(v->p + h + 8);
  v->cellPtr = h + (v->leaf ? 8 : 12);
  if (v->cellPtr + 2 * (uint64_t)v->nCell > r->usable) return corrupt(r, "more cells than fit on the page", pgno);
  return SQLITE_OK;
}

/* Offset of cell i, checked to leave at least `min` bytes on the page. */
static int cellAt(Reader *r, const PageView *v, uint32_t i, uint32_t min, uint32_t *off) {
  uint32_t o = be16(v->p + v->cellPtr + 2 * i);
  if (o < v->cellPtr + 2 * v->nCell || o + (uint64_t)min > r->usable) return corrupt(r, "a cell outside its page", v->pgno);
  *off = o;
  return SQLITE_OK;
}

static int interiorCell(Reader *r, const PageView *v, uint32_t i, uint32_t *child, int64_t *key) {
  uint32_t o;
  int rc = cellAt(r, v, i, 5, &o);
  if (rc != SQLITE_OK) return rc;
  *child = be32(v->p + o);
  uint64_t k;
  if (!varint(v->p + o + 4, v->p + r->usable, &k)) return corrupt(r, "a cell outside its page", v->pgno);
  *key = (int64_t)k;
  return SQLITE_OK;
}

static int leafKey(Reader *r, const PageView *v, uint32_t i, int64_t *key) {
  uint32_t o;
  int rc = cellAt(r, v, i, 2, &o);
  if (rc != SQLITE_OK) return rc;
  const uint8_t *end = v->p + r->usable;
  uint64_t p, k;
  int a = varint(v->p + o, end, &p);
  if (!a) return corrupt(r, "a cell outside its page", v->pgno);
  if (!varint(v->p + o + a, end, &k)) return corrupt(r, "a cell outside its page", v->pgno);
  *key = (int64_t)k;
  return SQLITE_OK;
}

/* The row of leaf cell i as one contiguous payload. */
static int rowPayload(Reader *r, const PageView *v, uint32_t i, const uint8_t **out, uint64_t *size) {
  uint32_t o;
  int rc = cellAt(r, v, i, 2, &o);
  if (rc != SQLITE_OK) return rc;
  const uint8_t *end = v->p + r->usable;
  uint64_t P, k;
  int a = varint(v->p + o, end, &P);
  int b = a ? varint(v->p + o + a, end, &k) : 0;
  if (!b) return corrupt(r, "a cell outside its page", v->pgno);
  if (P > (uint64_t)0x7fffffff) return corrupt(r, "a row larger than SQLite allows", v->pgno);
  const uint8_t *local = v->p + o + a + b;
  uint32_t U = r->usable, X = U - 35;
  if (P <= X) {
    if (local + P > end) return corrupt(r, "a row that runs off its page", v->pgno);
    *out = local;
    *size = P;
    return SQLITE_OK;
  }
  uint32_t M = ((U - 12) * 32 / 255) - 23;
  uint32_t K = M + (uint32_t)((P - M) % (U - 4));
  uint32_t L = K <= X ? K : M;
  if (local + L + 4 > end) return corrupt(r, "a row that runs off its page", v->pgno);
  rc = grow(&r->payload, &r->payloadCap, (size_t)P);
  if (rc != SQLITE_OK) return rc;
  memcpy(r->payload, local, L);
  uint64_t have = L;
  uint32_t next = be32(local + L);
  uint32_t per = U - 4;
  while (have < P) {
    if (next < 1 || next > r->nPages) return corrupt(r, "an overflow page past the end of the file", v->pgno);
    /* The rest of the chain in one read when it is contiguous (as CellProfiler's inserts leave it). */
    uint64_t want = (P - have + per - 1) / per;
    uint64_t avail = (uint64_t)r->nPages - next + 1;
    uint32_t n = (uint32_t)(want < avail ? want : avail);
    if (n > 64) n = 64;
    rc = grow(&r->chain, &r->chainCap, (size_t)n * r->pageSize);
    if (rc != SQLITE_OK) return rc;
    rc = readAt(r, r->chain, (size_t)n * r->pageSize, (uint64_t)(next - 1) * r->pageSize, next);
    if (rc != SQLITE_OK) return rc;
    uint32_t cur = next;
    for (uint32_t j = 0;;) {
      const uint8_t *pg = r->chain + (size_t)j * r->pageSize;
      uint64_t take = P - have < per ? P - have : per;
      memcpy(r->payload + have, pg + 4, (size_t)take);
      have += take;
      uint32_t nx = be32(pg);
      if (have >= P) break;
      if (++j < n && nx == cur + 1) {
        cur = nx;
        continue;
      }
      next = nx; /* the chain leaves the pages read: read on from where it goes */
      break;
    }
  }
  *out = r->payload;
  *size = P;
  return SQLITE_OK;
}

static uint64_t serialSize(uint64_t t) {
  static const uint8_t fixed[12] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0};
  if (t < 12) return fixed[t];
  return (t - 12) / 2;
}

static double intValue(const uint8_t *p, int n) {
  int64_t x = (int8_t)p[0];
  for (int i = 1; i < n; i++) x = (int64_t)((uint64_t)x << 8) | p[i];
  return (double)x;
}

/* The wanted columns of one record into out[0…k); returns 1 when the row needs SQLite. */
static int decodeRow(Reader *r, uint32_t pgno, const uint8_t *rec, uint64_t P, const int32_t *cols, int k, int32_t maxCol, double *out, int *rc) {
  uint64_t H;
  int a = varint(rec, rec + P, &H);
  if (!a || H > P || H < (uint64_t)a) {
    *rc = corrupt(r, "a row with a damaged record header", pgno);
    return 0;
  }
  size_t need = (size_t)maxCol + 1;
  if (need > r->colCap) {
    uint64_t *o = (uint64_t *)realloc(r->colOff, need * sizeof(uint64_t));
    if (o) r->colOff = o;
    uint64_t *t = (uint64_t *)realloc(r->colType, need * sizeof(uint64_t));
    if (t) r->colType = t;
    if (!o || !t) {
      *rc = SQLITE_NOMEM;
      return 0;
    }
    r->colCap = need;
  }
  const uint8_t *h = rec + a, *hend = rec + H;
  uint64_t body = H;
  size_t nc = 0;
  while (h < hend && nc < need) {
    uint64_t t;
    int b = varint(h, hend, &t);
    if (!b) {
      *rc = corrupt(r, "a row with a damaged record header", pgno);
      return 0;
    }
    h += b;
    uint64_t sz = serialSize(t);
    if (body + sz > P || body + sz < body) {
      *rc = corrupt(r, "a row whose values run past its end", pgno);
      return 0;
    }
    r->colOff[nc] = body;
    r->colType[nc] = t;
    body += sz;
    nc++;
  }
  int slow = 0;
  for (int j = 0; j < k; j++) {
    uint32_t c = (uint32_t)cols[j];
    if (c >= nc) {
      slow = 1; /* a column added after this row was written: its default is SQLite's to give */
      out[j] = NAN;
      continue;
    }
    const uint8_t *p = rec + r->colOff[c];
    uint64_t t = r->colType[c];
    switch (t) {
      case 0:
        out[j] = NAN;
        break;
      case 7: {
        uint64_t u = ((uint64_t)be32(p) << 32) | be32(p + 4);
        double d;
        memcpy(&d, &u, 8);
        out[j] = d;
        break;
      }
      case 1: case 2: case 3: case 4: case 5: case 6:
        out[j] = intValue(p, (int)serialSize(t));
        break;
      case 8:
        out[j] = 0;
        break;
      case 9:
        out[j] = 1;
        break;
      default: /* TEXT, BLOB, reserved types */
        out[j] = NAN;
        slow = 1;
    }
  }
  return slow;
}

typedef struct Frame {
  PageView v;
  uint32_t idx; /* interior: the child taken (nCell = the right-most) */
} Frame;

/* Descend to the leaf holding the first rowid >= from; leaves the path in st[0…*depth]. */
static int seek(Reader *r, uint32_t root, int64_t from, Frame *st, int *depth, uint32_t *leafIdx) {
  uint32_t pg = root;
  for (int d = 0;; d++) {
    if (d >= MAX_DEPTH) return corrupt(r, "a b-tree deeper than any real one (a loop?)", pg);
    int rc = viewPage(r, pg, &st[d].v);
    if (rc != SQLITE_OK) return rc;
    PageView *v = &st[d].v;
    uint32_t lo = 0, hi = v->nCell;
    if (v->leaf) {
      while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int64_t key;
        if ((rc = leafKey(r, v, mid, &key)) != SQLITE_OK) return rc;
        if (key < from) lo = mid + 1;
        else hi = mid;
      }
      *leafIdx = lo;
      *depth = d;
      return SQLITE_OK;
    }
    /* The first cell whose key >= from: its left child holds rowids <= key. */
    while (lo < hi) {
      uint32_t mid = (lo + hi) / 2;
      uint32_t child;
      int64_t key;
      if ((rc = interiorCell(r, v, mid, &child, &key)) != SQLITE_OK) return rc;
      if (key < from) lo = mid + 1;
      else hi = mid;
    }
    st[d].idx = lo;
    if (lo < v->nCell) {
      int64_t key;
      if ((rc = interiorCell(r, v, lo, &pg, &key)) != SQLITE_OK) return rc;
    } else {
      pg = v->right;
    }
  }
}

/* Move to the next leaf after st[depth]; *ok = 0 at the end of the table. */
static int nextLeaf(Reader *r, Frame *st, int *depth, int *ok) {
  int d = *depth - 1;
  while (d >= 0 && st[d].idx >= st[d].v.nCell) d--;
  if (d < 0) {
    *ok = 0;
    return SQLITE_OK;
  }
  int rc;
  for (;;) {
    /* Refresh the frame's page: loading a child may have reused its cache slot. */
    if ((rc = viewPage(r, st[d].v.pgno, &st[d].v)) != SQLITE_OK) return rc;
    st[d].idx++;
    uint32_t pg;
    if (st[d].idx < st[d].v.nCell) {
      int64_t key;
      if ((rc = interiorCell(r, &st[d].v, st[d].idx, &pg, &key)) != SQLITE_OK) return rc;
    } else {
      pg = st[d].v.right;
    }
    d++;
    if (d >= MAX_DEPTH) return corrupt(r, "a b-tree deeper than any real one (a loop?)", pg);
    if ((rc = viewPage(r, pg, &st[d].v)) != SQLITE_OK) return rc;
    if (st[d].v.leaf) {
      *depth = d;
      *ok = 1;
      return SQLITE_OK;
    }
    st[d].idx = (uint32_t)-1; /* incremented to 0 at the top of the loop */
  }
}

static void rowsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  Reader *r = (Reader *)sqlite3_user_data(ctx);
  if (sqlite3_txn_state(db, "main") < SQLITE_TXN_READ) {
    sqlite3_result_error(ctx, "phenomap_rows needs a read transaction on the database", -1);
    return;
  }
  sqlite3_file *file = NULL;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file || !file->pMethods) {
    sqlite3_result_null(ctx);
    return;
  }
  r->err[0] = 0;
  if (r->file != file) {
    readerReset(r);
    r->file = file;
  }
  sqlite3_int64 root = sqlite3_value_int64(argv[0]);
  sqlite3_int64 from = sqlite3_value_int64(argv[1]);
  sqlite3_int64 to = sqlite3_value_int64(argv[2]);
  const int32_t *colsIn = (const int32_t *)sqlite3_value_blob(argv[3]);
  int k = sqlite3_value_bytes(argv[3]) / 4;
  sqlite3_int64 max = sqlite3_value_int64(argv[4]);
  if (root < 1 || root > 0xffffffffLL || max < 1 || (k > 0 && !colsIn)) {
    sqlite3_result_error(ctx, "phenomap_rows: bad arguments", -1);
    return;
  }
  int32_t *cols = (int32_t *)malloc((size_t)(k > 0 ? k : 1) * 4);
  if (!cols) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  memcpy(cols, colsIn, (size_t)k * 4); /* the blob's bytes need not be aligned */
  int32_t maxCol = 0;
  for (int j = 0; j < k; j++) {
    if (cols[j] < 0) {
      free(cols);
      sqlite3_result_error(ctx, "phenomap_rows: bad arguments", -1);
      return;
    }
    if (cols[j] > maxCol) maxCol = cols[j];
  }
  int rc = readerOpen(r);
  if (rc == SQLITE_DONE) {
    free(cols);
    sqlite3_result_null(ctx);
    return;
  }
  size_t m = 0;
  size_t kk = (size_t)(k > 0 ? k : 1);
  Frame st[MAX_DEPTH];
  int depth = 0;
  uint32_t i = 0;
  if (rc == SQLITE_OK && from <= to) rc = seek(r, (uint32_t)root, from, st, &depth, &i);
  while (rc == SQLITE_OK && from <= to && (sqlite3_int64)m < max) {
    if (i >= st[depth].v.nCell) {
      int ok;
      rc = nextLeaf(r, st, &depth, &ok);
      if (rc != SQLITE_OK || !ok) break;
      i = 0;
      continue;
    }
    int64_t key;
    if ((rc = leafKey(r, &st[depth].v, i, &key)) != SQLITE_OK) break;
    if (key > to) break;
    if ((rc = growD(&r->vals, &r->valsCap, (m + 1) * kk)) != SQLITE_OK) break;
    if ((rc = growD(&r->ids, &r->idsCap, m + 1)) != SQLITE_OK) break;
    if ((rc = growD(&r->flags, &r->flagsCap, m + 1)) != SQLITE_OK) break;
    const uint8_t *rec;
    uint64_t P;
    if ((rc = rowPayload(r, &st[depth].v, i, &rec, &P)) != SQLITE_OK) break;
    int slow = decodeRow(r, st[depth].v.pgno, rec, P, cols, k, maxCol, r->vals + m * (size_t)k, &rc);
    if (rc != SQLITE_OK) break;
    r->ids[m] = (double)key;
    r->flags[m] = slow;
    m++;
    i++;
  }
  free(cols);
  if (rc == SQLITE_OK) {
    size_t n = 1 + m * (size_t)(k + 2);
    rc = growD(&r->out, &r->outCap, n);
    if (rc == SQLITE_OK) {
      double *out = r->out;
      out[0] = (double)m;
      if (m) {
        memcpy(out + 1, r->ids, m * sizeof(double));
        memcpy(out + 1 + m, r->vals, m * (size_t)k * sizeof(double));
        memcpy(out + 1 + m + m * (size_t)k, r->flags, m * sizeof(double));
      }
      /* Static: the caller copies the row out before this connection calls phenomap_rows again. */
      sqlite3_result_blob64(ctx, out, n * sizeof(double), SQLITE_STATIC);
    }
  }
  if (rc == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(ctx);
  } else if (rc != SQLITE_OK) {
    /* Cached pages may be the damaged ones: start afresh next time. */
    readerReset(r);
    sqlite3_result_error(ctx, r->err[0] ? r->err : "cannot read the database file", -1);
    sqlite3_result_error_code(ctx, rc == SQLITE_CORRUPT ? SQLITE_CORRUPT : rc);
  }
}

/* Registered on each connection the extension is loaded into, with that connection's reader. */
int phenomapRegisterRows(sqlite3 *db) {
  Reader *r = (Reader *)calloc(1, sizeof(Reader));
  if (!r) return SQLITE_NOMEM;
  return sqlite3_create_function_v2(db, "phenomap_rows", 5, SQLITE_UTF8 | SQLITE_DIRECTONLY, r, rowsFunc, NULL, NULL, readerFree);
}
