;; phenomap dense kernels, hand-written WebAssembly (SIMD f64x2).
;; Assembled by scripts/build-wasm.ts into kernels.generated.ts (base64) — edit this file, then
;; run `npx tsx scripts/build-wasm.ts`.
;;
;; Rounding contract: every kernel performs exactly the floating-point operations, in exactly the
;; order, of its pure-JS twin in src/linalg (blas.ts, cholesky.ts, eigen.ts), so both paths give
;; bit-identical results. Two-lane accumulators are mirrored in JS by two scalar accumulators
;; (lane 0 = even offsets, lane 1 = odd offsets, combined as lane0 + lane1).
;;
;; All pointers are byte addresses into the imported memory; matrices are row-major float64.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; ---------------------------------------------------------------------------------------------
  ;; C(4×4) += A·Bᵀ over kl steps, A and B packed: 4 doubles per step (rows i..i+3 / j..j+3 at
  ;; step p). Each lane keeps one entry of C and adds a·b in increasing p — the same sequence as
  ;; the scalar loop `s += a[p]*b[p]`. Eight accumulators cover the f64 add latency.
  ;; load = 0: start from zero instead of reading C (first k slice; 0 + a·b = a·b exactly, so the
  ;; result is the same as zero-filling C first, without the fill).
  (func $micro4x4 (param $pa i32) (param $pb i32) (param $kl i32) (param $c i32) (param $ldc i32) (param $load i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128)
    (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $end i32)
    (local.set $r1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $ldc)))
    (local.set $r3 (i32.add (local.get $r2) (local.get $ldc)))
    (if (local.get $load)
      (then
        (local.set $c00 (v128.load (local.get $c)))
        (local.set $c01 (v128.load offset=16 (local.get $c)))
        (local.set $c10 (v128.load (local.get $r1)))
        (local.set $c11 (v128.load offset=16 (local.get $r1)))
        (local.set $c20 (v128.load (local.get $r2)))
        (local.set $c21 (v128.load offset=16 (local.get $r2)))
        (local.set $c30 (v128.load (local.get $r3)))
        (local.set $c31 (v128.load offset=16 (local.get $r3)))))
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $kl) (i32.const 5))))
    (block $done
      (br_if $done (i32.eqz (local.get $kl)))
      (loop $p
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $a (v128.load64_splat (local.get $pa)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $a) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $a) (local.get $b1))))
        (local.set $a (v128.load64_splat offset=8 (local.get $pa)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $a) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $a) (local.get $b1))))
        (local.set $a (v128.load64_splat offset=16 (local.get $pa)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $a) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $a) (local.get $b1))))
        (local.set $a (v128.load64_splat offset=24 (local.get $pa)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $a) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $a) (local.get $b1))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
        (br_if $p (i32.lt_u (local.get $pa) (local.get $end)))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store (local.get $r1) (local.get $c10))
    (v128.store offset=16 (local.get $r1) (local.get $c11))
    (v128.store (local.get $r2) (local.get $c20))
    (v128.store offset=16 (local.get $r2) (local.get $c21))
    (v128.store (local.get $r3) (local.get $c30))
    (v128.store offset=16 (local.get $r3) (local.get $c31)))

  ;; C tile += A·Bᵀ (acc ≠ 0) or C tile = A·Bᵀ (acc = 0) for row blocks [ib0, ib1) of packed A
  ;; and the nb column blocks of packed B.
  ;; Packed block b of A (or B) starts at ap + b·k·32 and holds k steps of 4 doubles.
  ;; C tile: (4·mb) × ldc doubles at cp. sym ≠ 0: only blocks jb ≥ ib (diagonal tile of X·Xᵀ).
  ;; k is walked in slices of kc steps (micro-panels of A stay in L1) and B in panels of pb
  ;; blocks (stay in L2).
  (func (export "nt_tile")
    (param $ap i32) (param $bp i32) (param $cp i32) (param $ib0 i32) (param $ib1 i32)
    (param $nb i32) (param $k i32) (param $ldc i32) (param $sym i32) (param $kc i32) (param $pb i32) (param $acc i32)
    (local $p0 i32) (local $kl i32) (local $jp i32) (local $jpe i32) (local $ib i32) (local $jb i32)
    (local $kb i32) (local $ldcb i32) (local $arow i32) (local $crow i32)
    (local.set $kb (i32.shl (local.get $k) (i32.const 5)))
    (local.set $ldcb (i32.shl (local.get $ldc) (i32.const 3)))
    (block $pdone
      (loop $ploop
        (br_if $pdone (i32.ge_u (local.get $p0) (local.get $k)))
        (local.set $kl (i32.sub (local.get $k) (local.get $p0)))
        (if (i32.gt_u (local.get $kl) (local.get $kc)) (then (local.set $kl (local.get $kc))))
        (local.set $jp (i32.const 0))
        (block $jpdone
          (loop $jploop
            (br_if $jpdone (i32.ge_u (local.get $jp) (local.get $nb)))
            (local.set $jpe (i32.add (local.get $jp) (local.get $pb)))
            (if (i32.gt_u (local.get $jpe) (local.get $nb)) (then (local.set $jpe (local.get $nb))))
            (local.set $ib (local.get $ib0))
            (block $ibdone
              (loop $ibloop
                (br_if $ibdone (i32.ge_u (local.get $ib) (local.get $ib1)))
                (local.set $jb (local.get $jp))
                (if (i32.and (i32.ne (local.get $sym) (i32.const 0)) (i32.gt_u (local.get $ib) (local.get $jb)))
                  (then (local.set $jb (local.get $ib))))
                (local.set $arow (i32.add (i32.add (local.get $ap) (i32.mul (local.get $ib) (local.get $kb)))
                                          (i32.shl (local.get $p0) (i32.const 5))))
                (local.set $crow (i32.add (local.get $cp) (i32.mul (i32.shl (local.get $ib) (i32.const 2)) (local.get $ldcb))))
                (block $jbdone
                  (loop $jbloop
                    (br_if $jbdone (i32.ge_u (local.get $jb) (local.get $jpe)))
                    (call $micro4x4
                      (local.get $arow)
                      (i32.add (i32.add (local.get $bp) (i32.mul (local.get $jb) (local.get $kb)))
                               (i32.shl (local.get $p0) (i32.const 5)))
                      (local.get $kl)
                      (i32.add (local.get $crow) (i32.shl (local.get $jb) (i32.const 5)))
                      (local.get $ldcb)
                      (i32.or (local.get $acc) (local.get $p0)))
                    (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
                    (br $jbloop)))
                (local.set $ib (i32.add (local.get $ib) (i32.const 1)))
                (br $ibloop)))
            (local.set $jp (i32.add (local.get $jp) (local.get $pb)))
            (br $jploop)))
        (local.set $p0 (i32.add (local.get $p0) (local.get $kc)))
        (br $ploop))))
;; ---------------------------------------------------------------------------------------------
  ;; Cholesky–Crout in place on an n×n row-major matrix (reads the lower triangle, writes L, zeros
  ;; the strict upper triangle). Row i is computed in groups of 4 columns j0..j0+3 (j0 ≡ 0 mod 4):
  ;; the 4 dot products over the common prefix p < j0 share the loads of row i (two lanes: even
  ;; and odd p, combined lane0 + lane1), then the in-group terms p = j0…jj−1 are subtracted in
  ;; order. Returns −1, or the failing pivot i with its value stored at `scratch`.
  ;; Mirrored by choleskyJs in cholesky.ts.
  (func (export "chol") (param $a i32) (param $n i32) (param $scratch i32) (result i32)
    (local $i i32) (local $ri i32) (local $nb i32) (local $j0 i32) (local $cnt i32) (local $q i32)
    (local $jj i32) (local $rq i32) (local $t i32) (local $p i32) (local $pend i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $x v128)
    (local $s f64)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $ri (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $j0 (i32.const 0))
        (block $gdone
          (loop $gloop
            (br_if $gdone (i32.gt_u (local.get $j0) (local.get $i)))
            (local.set $cnt (i32.sub (i32.add (local.get $i) (i32.const 1)) (local.get $j0)))
            (if (i32.gt_u (local.get $cnt) (i32.const 4)) (then (local.set $cnt (i32.const 4))))
            ;; rows j0..j0+3 (rows past the group reuse row i; their dots are not used)
            (local.set $r0 (i32.add (local.get $a) (i32.mul (local.get $j0) (local.get $nb))))
            (local.set $r1 (select (i32.add (local.get $r0) (local.get $nb)) (local.get $ri) (i32.gt_u (local.get $cnt) (i32.const 1))))
            (local.set $r2 (select (i32.add (local.get $r1) (local.get $nb)) (local.get $ri) (i32.gt_u (local.get $cnt) (i32.const 2))))
            (local.set $r3 (select (i32.add (local.get $r2) (local.get $nb)) (local.get $ri) (i32.gt_u (local.get $cnt) (i32.const 3))))
            (local.set $acc0 (v128.const i64x2 0 0))
            (local.set $acc1 (v128.const i64x2 0 0))
            (local.set $acc2 (v128.const i64x2 0 0))
            (local.set $acc3 (v128.const i64x2 0 0))
            (local.set $p (i32.const 0))
            (local.set $pend (i32.shl (local.get $j0) (i32.const 3)))
            (block $pdone
              (loop $ploop
                (br_if $pdone (i32.ge_u (local.get $p) (local.get $pend)))
                (local.set $x (v128.load (i32.add (local.get $ri) (local.get $p))))
                (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $r0) (local.get $p))))))
                (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $r1) (local.get $p))))))
                (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $r2) (local.get $p))))))
                (local.set $acc3 (f64x2.add (local.get $acc3) (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $r3) (local.get $p))))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (br $ploop)))
            (f64.store offset=8 (local.get $scratch) (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0))))
            (f64.store offset=16 (local.get $scratch) (f64.add (f64x2.extract_lane 0 (local.get $acc1)) (f64x2.extract_lane 1 (local.get $acc1))))
            (f64.store offset=24 (local.get $scratch) (f64.add (f64x2.extract_lane 0 (local.get $acc2)) (f64x2.extract_lane 1 (local.get $acc2))))
            (f64.store offset=32 (local.get $scratch) (f64.add (f64x2.extract_lane 0 (local.get $acc3)) (f64x2.extract_lane 1 (local.get $acc3))))
            (local.set $q (i32.const 0))
            (block $qdone
              (loop $qloop
                (br_if $qdone (i32.ge_u (local.get $q) (local.get $cnt)))
                (local.set $jj (i32.add (local.get $j0) (local.get $q)))
                (local.set $rq (i32.add (local.get $a) (i32.mul (local.get $jj) (local.get $nb))))
                (local.set $s (f64.sub
                  (f64.load (i32.add (local.get $ri) (i32.shl (local.get $jj) (i32.const 3))))
                  (f64.load offset=8 (i32.add (local.get $scratch) (i32.shl (local.get $q) (i32.const 3))))))
                (local.set $t (local.get $j0))
                (block $tdone
                  (loop $tloop
                    (br_if $tdone (i32.ge_u (local.get $t) (local.get $jj)))
                    (local.set $s (f64.sub (local.get $s) (f64.mul
                      (f64.load (i32.add (local.get $ri) (i32.shl (local.get $t) (i32.const 3))))
                      (f64.load (i32.add (local.get $rq) (i32.shl (local.get $t) (i32.const 3)))))))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $tloop)))
                (if (i32.lt_u (local.get $jj) (local.get $i))
                  (then
                    (f64.store (i32.add (local.get $ri) (i32.shl (local.get $jj) (i32.const 3)))
                      (f64.div (local.get $s) (f64.load (i32.add (local.get $rq) (i32.shl (local.get $jj) (i32.const 3)))))))
                  (else
                    (if (i32.eqz (f64.gt (local.get $s) (f64.const 0)))
                      (then
                        (f64.store (local.get $scratch) (local.get $s))
                        (return (local.get $i))))
                    (f64.store (i32.add (local.get $ri) (i32.shl (local.get $jj) (i32.const 3))) (f64.sqrt (local.get $s)))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $qloop)))
            (local.set $j0 (i32.add (local.get $j0) (i32.const 4)))
            (br $gloop)))
        ;; zero the strict upper part of row i
        (local.set $t (i32.add (local.get $i) (i32.const 1)))
        (block $zdone
          (loop $zloop
            (br_if $zdone (i32.ge_u (local.get $t) (local.get $n)))
            (f64.store (i32.add (local.get $ri) (i32.shl (local.get $t) (i32.const 3))) (f64.const 0))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $zloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
    (i32.const -1))

  ;; ---------------------------------------------------------------------------------------------
  ;; Householder tridiagonalisation (tred2 as in eigen.ts), step i: the two O(i²) loops.
  ;; w: n×n work matrix, d and e: length-n vectors (byte addresses).
  ;;
;; tred_symv: for j < i: f = d[j]; g = e[j] + w[j,j]·f; over k = j+1 … i−1: e[k] += w[j,k]·f and
  ;; the dot w[j,·]·d as four interleaved partial sums a0…a3 (two f64x2 accumulators, k in steps of
  ;; 4; then one step of 2 into a0, a1), t = (a0 + a2) + (a1 + a3), odd tail t += w[j,k]·d[k];
  ;; e[j] = g + t. Two accumulators halve the add-latency chain. Mirrored by tredSymvJs.
  (func (export "tred_symv") (param $w i32) (param $d i32) (param $e i32) (param $n i32) (param $i i32)
    (local $j i32) (local $rj i32) (local $kb i32) (local $iend i32)
    (local $f f64) (local $g f64) (local $t f64) (local $v f64)
    (local $fv v128) (local $acc0 v128) (local $acc1 v128) (local $v0 v128) (local $v1 v128) (local $ep i32)
    (local.set $iend (i32.shl (local.get $i) (i32.const 3)))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $i)))
        (local.set $rj (i32.add (local.get $w) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        (local.set $f (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $fv (f64x2.splat (local.get $f)))
        (local.set $g (f64.add
          (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3))))
          (f64.mul (f64.load (i32.add (local.get $rj) (i32.shl (local.get $j) (i32.const 3)))) (local.get $f))))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $kb (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3)))
        (block $kdone
          (loop $kloop
            (br_if $kdone (i32.gt_u (i32.add (local.get $kb) (i32.const 32)) (local.get $iend)))
            (local.set $v0 (v128.load (i32.add (local.get $rj) (local.get $kb))))
            (local.set $v1 (v128.load offset=16 (i32.add (local.get $rj) (local.get $kb))))
            (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (local.get $v0) (v128.load (i32.add (local.get $d) (local.get $kb))))))
            (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (local.get $v1) (v128.load offset=16 (i32.add (local.get $d) (local.get $kb))))))
            (local.set $ep (i32.add (local.get $e) (local.get $kb)))
            (v128.store (local.get $ep) (f64x2.add (v128.load (local.get $ep)) (f64x2.mul (local.get $v0) (local.get $fv))))
            (v128.store offset=16 (local.get $ep) (f64x2.add (v128.load offset=16 (local.get $ep)) (f64x2.mul (local.get $v1) (local.get $fv))))
            (local.set $kb (i32.add (local.get $kb) (i32.const 32)))
            (br $kloop)))
        (if (i32.le_u (i32.add (local.get $kb) (i32.const 16)) (local.get $iend))
          (then
            (local.set $v0 (v128.load (i32.add (local.get $rj) (local.get $kb))))
            (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (local.get $v0) (v128.load (i32.add (local.get $d) (local.get $kb))))))
            (local.set $ep (i32.add (local.get $e) (local.get $kb)))
            (v128.store (local.get $ep) (f64x2.add (v128.load (local.get $ep)) (f64x2.mul (local.get $v0) (local.get $fv))))
            (local.set $kb (i32.add (local.get $kb) (i32.const 16)))))
        (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
        (local.set $t (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0))))
        (if (i32.lt_u (local.get $kb) (local.get $iend))
          (then
            (local.set $v (f64.load (i32.add (local.get $rj) (local.get $kb))))
            (local.set $t (f64.add (local.get $t) (f64.mul (local.get $v) (f64.load (i32.add (local.get $d) (local.get $kb))))))
            (f64.store (i32.add (local.get $e) (local.get $kb))
              (f64.add (f64.load (i32.add (local.get $e) (local.get $kb))) (f64.mul (local.get $v) (local.get $f))))))
        (f64.store (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3))) (f64.add (local.get $g) (local.get $t)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop))))

  ;; tred_rank2: for j < i: f = d[j]; g = e[j]; w[j,k] −= f·e[k] + g·d[k] for k = j … i−1;
  ;; then d[j] = w[j,i−1] and w[j,i] = 0. Element-wise, same operations as the JS loop.
  (func (export "tred_rank2") (param $w i32) (param $d i32) (param $e i32) (param $n i32) (param $i i32)
    (local $j i32) (local $rj i32) (local $kb i32) (local $iend i32)
    (local $f f64) (local $g f64) (local $fv v128) (local $gv v128) (local $addr i32)
    (local.set $iend (i32.shl (local.get $i) (i32.const 3)))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $i)))
        (local.set $rj (i32.add (local.get $w) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        (local.set $f (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $g (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $fv (f64x2.splat (local.get $f)))
        (local.set $gv (f64x2.splat (local.get $g)))
        (local.set $kb (i32.shl (local.get $j) (i32.const 3)))
        (block $kdone
          (loop $kloop
            (br_if $kdone (i32.gt_u (i32.add (local.get $kb) (i32.const 16)) (local.get $iend)))
            (local.set $addr (i32.add (local.get $rj) (local.get $kb)))
            (v128.store (local.get $addr)
              (f64x2.sub (v128.load (local.get $addr))
                (f64x2.add
                  (f64x2.mul (local.get $fv) (v128.load (i32.add (local.get $e) (local.get $kb))))
                  (f64x2.mul (local.get $gv) (v128.load (i32.add (local.get $d) (local.get $kb)))))))
            (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
            (br $kloop)))
        (if (i32.lt_u (local.get $kb) (local.get $iend))
          (then
            (local.set $addr (i32.add (local.get $rj) (local.get $kb)))
            (f64.store (local.get $addr)
              (f64.sub (f64.load (local.get $addr))
                (f64.add
                  (f64.mul (local.get $f) (f64.load (i32.add (local.get $e) (local.get $kb))))
                  (f64.mul (local.get $g) (f64.load (i32.add (local.get $d) (local.get $kb)))))))))
        (f64.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))
          (f64.load (i32.sub (i32.add (local.get $rj) (local.get $iend)) (i32.const 8))))
        (f64.store (i32.add (local.get $rj) (local.get $iend)) (f64.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop))))

  ;; x ← P_1 ⋯ P_{n−1} x (back-transformation of one eigenvector). house: n×n, row s holds u_s
  ;; in [0, s); h: length n (0 = skip). Dot u·x as in tred_symv (a0…a3, t = (a0+a2) + (a1+a3),
  ;; odd tail), g = t / h; x[k] −= g·u[k].
  ;; Mirrored by houseApplyJs in eigen.ts.
  (func (export "house_apply") (param $house i32) (param $h i32) (param $n i32) (param $x i32)
    (local $s i32) (local $rs i32) (local $kb i32) (local $send i32) (local $hs f64) (local $g f64)
    (local $acc v128) (local $acc1 v128) (local $gv v128) (local $addr i32)
    (local.set $s (i32.const 1))
    (block $sdone
      (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $s) (local.get $n)))
        (local.set $hs (f64.load (i32.add (local.get $h) (i32.shl (local.get $s) (i32.const 3)))))
        (if (f64.ne (local.get $hs) (f64.const 0))
          (then
            (local.set $rs (i32.add (local.get $house) (i32.shl (i32.mul (local.get $s) (local.get $n)) (i32.const 3))))
            (local.set $send (i32.shl (local.get $s) (i32.const 3)))
            (local.set $acc (v128.const i64x2 0 0))
            (local.set $acc1 (v128.const i64x2 0 0))
            (local.set $kb (i32.const 0))
            (block $kdone
              (loop $kloop
                (br_if $kdone (i32.gt_u (i32.add (local.get $kb) (i32.const 32)) (local.get $send)))
                (local.set $acc (f64x2.add (local.get $acc)
                  (f64x2.mul (v128.load (i32.add (local.get $rs) (local.get $kb))) (v128.load (i32.add (local.get $x) (local.get $kb))))))
                (local.set $acc1 (f64x2.add (local.get $acc1)
                  (f64x2.mul (v128.load offset=16 (i32.add (local.get $rs) (local.get $kb))) (v128.load offset=16 (i32.add (local.get $x) (local.get $kb))))))
                (local.set $kb (i32.add (local.get $kb) (i32.const 32)))
                (br $kloop)))
            (if (i32.le_u (i32.add (local.get $kb) (i32.const 16)) (local.get $send))
              (then
                (local.set $acc (f64x2.add (local.get $acc)
                  (f64x2.mul (v128.load (i32.add (local.get $rs) (local.get $kb))) (v128.load (i32.add (local.get $x) (local.get $kb))))))
                (local.set $kb (i32.add (local.get $kb) (i32.const 16)))))
            (local.set $acc (f64x2.add (local.get $acc) (local.get $acc1)))
            (local.set $g (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
            (if (i32.lt_u (local.get $kb) (local.get $send))
              (then (local.set $g (f64.add (local.get $g)
                (f64.mul (f64.load (i32.add (local.get $rs) (local.get $kb))) (f64.load (i32.add (local.get $x) (local.get $kb))))))))
            (local.set $g (f64.div (local.get $g) (local.get $hs)))
            (local.set $gv (f64x2.splat (local.get $g)))
            (local.set $kb (i32.const 0))
            (block $udone
              (loop $uloop
                (br_if $udone (i32.gt_u (i32.add (local.get $kb) (i32.const 16)) (local.get $send)))
                (local.set $addr (i32.add (local.get $x) (local.get $kb)))
                (v128.store (local.get $addr)
                  (f64x2.sub (v128.load (local.get $addr)) (f64x2.mul (local.get $gv) (v128.load (i32.add (local.get $rs) (local.get $kb))))))
                (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
                (br $uloop)))
            (if (i32.lt_u (local.get $kb) (local.get $send))
              (then
                (local.set $addr (i32.add (local.get $x) (local.get $kb)))
                (f64.store (local.get $addr)
                  (f64.sub (f64.load (local.get $addr)) (f64.mul (local.get $g) (f64.load (i32.add (local.get $rs) (local.get $kb))))))))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $sloop))))

  ;; The z-rotations of one implicit-QL sweep (tql in eigen.ts), applied after the sweep's scalar
  ;; recurrence: for i = m−1 down to l, with c = cs[2i], s = cs[2i+1], rows i and i+1 of z (n×n):
  ;; z[i+1,k] = s·z[i,k] + c·z[i+1,k]; z[i,k] = c·z[i,k] − s·z[i+1,k] (old values).
  (func (export "rotate_rows") (param $z i32) (param $n i32) (param $l i32) (param $m i32) (param $cs i32)
    (local $i i32) (local $ri i32) (local $ri1 i32) (local $kb i32) (local $nb i32) (local $nb2 i32)
    (local $c f64) (local $s f64) (local $cv v128) (local $sv v128) (local $zi v128) (local $zh v128)
    (local $zis f64) (local $zhs f64)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (local.set $nb2 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $i (i32.sub (local.get $m) (i32.const 1)))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.lt_s (local.get $i) (local.get $l)))
        (local.set $c (f64.load (i32.add (local.get $cs) (i32.shl (local.get $i) (i32.const 4)))))
        (local.set $s (f64.load offset=8 (i32.add (local.get $cs) (i32.shl (local.get $i) (i32.const 4)))))
        (local.set $cv (f64x2.splat (local.get $c)))
        (local.set $sv (f64x2.splat (local.get $s)))
        (local.set $ri (i32.add (local.get $z) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $ri1 (i32.add (local.get $ri) (local.get $nb)))
        (local.set $kb (i32.const 0))
        (block $kdone
          (loop $kloop
            (br_if $kdone (i32.ge_u (local.get $kb) (local.get $nb2)))
            (local.set $zh (v128.load (i32.add (local.get $ri1) (local.get $kb))))
            (local.set $zi (v128.load (i32.add (local.get $ri) (local.get $kb))))
            (v128.store (i32.add (local.get $ri1) (local.get $kb))
              (f64x2.add (f64x2.mul (local.get $sv) (local.get $zi)) (f64x2.mul (local.get $cv) (local.get $zh))))
            (v128.store (i32.add (local.get $ri) (local.get $kb))
              (f64x2.sub (f64x2.mul (local.get $cv) (local.get $zi)) (f64x2.mul (local.get $sv) (local.get $zh))))
            (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
            (br $kloop)))
        (if (i32.lt_u (local.get $kb) (local.get $nb))
          (then
            (local.set $zhs (f64.load (i32.add (local.get $ri1) (local.get $kb))))
            (local.set $zis (f64.load (i32.add (local.get $ri) (local.get $kb))))
            (f64.store (i32.add (local.get $ri1) (local.get $kb))
              (f64.add (f64.mul (local.get $s) (local.get $zis)) (f64.mul (local.get $c) (local.get $zhs))))
            (f64.store (i32.add (local.get $ri) (local.get $kb))
              (f64.sub (f64.mul (local.get $c) (local.get $zis)) (f64.mul (local.get $s) (local.get $zhs))))))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $iloop))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Affinity propagation: one fused sweep over rows [r0, r1) of S, R, A (n×n row-major), the
  ;; twin of fusedPass in src/cluster/affinityPropagation.ts (same floating-point operations in the
  ;; same order for every matrix entry, so R, A, E and the column sums are bit-identical up to the
  ;; sign of exact zeros, which no comparison or non-zero sum can see).
  ;; flags: 1 = availabilities of iteration t (from column sums cs), E and run-length counters;
  ;;        2 = responsibilities of t+1 (row max of A + S); 4 = add max(R,0) (diagonal: R) of the
  ;;        new responsibilities to ncs (row order within the call, so column sums keep numpy's
  ;;        axis-0 accumulation order when rows are swept in order).
  ;; Row max: each SIMD lane (even / odd j) and a scalar group (diagonal, odd tail) keep their max,
  ;; second max and FIRST argmax; groups merge with the smallest index winning ties, which gives
  ;; exactly the sequential scan's (y1, y2, I). The diagonal of the availability sweep is kept out
  ;; of the lanes by setting S[i,i] = −inf for the sweep (restored right after). pmax(0, x) is
  ;; 0 < x ? x : 0 = Math.max(x, 0) for every non-NaN x. Returns the number of rows with E = 1.
  (func (export "ap_rows")
    (param $S i32) (param $R i32) (param $A i32) (param $cs i32) (param $ncs i32) (param $E i32) (param $run i32)
    (param $n i32) (param $d f64) (param $omd f64) (param $flags i32) (param $r0 i32) (param $r1 i32) (result i32)
    (local $i i32) (local $nb i32) (local $pend i32) (local $j i32) (local $di i32)
    (local $pS i32) (local $pR i32) (local $pA i32) (local $K i32) (local $e i32) (local $I i32) (local $Is i32) (local $I1 i32)
    (local $rii f64) (local $aii f64) (local $sS f64) (local $v f64) (local $a f64) (local $r f64)
    (local $y1 f64) (local $y2 f64) (local $y1s f64) (local $y2s f64) (local $g1 f64) (local $g2 f64)
    (local $rI f64) (local $nI f64) (local $ni f64)
    (local $vd v128) (local $vomd v128) (local $zero v128) (local $vy1 v128) (local $vy2 v128)
    (local $vI v128) (local $vj v128) (local $two v128) (local $va v128) (local $vv v128) (local $m v128) (local $vr v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (local.set $pend (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3)))
    (local.set $vd (f64x2.splat (local.get $d)))
    (local.set $vomd (f64x2.splat (local.get $omd)))
    (local.set $zero (f64x2.splat (f64.const 0)))
    (local.set $two (i64x2.splat (i64.const 2)))
    (local.set $i (local.get $r0))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $r1)))
        (local.set $pS (i32.add (local.get $S) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $pR (i32.add (local.get $R) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $pA (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $di (i32.shl (local.get $i) (i32.const 3)))
        (local.set $rii (f64.load (i32.add (local.get $pR) (local.get $di))))
        (local.set $vy1 (f64x2.splat (f64.const -inf)))
        (local.set $vy2 (f64x2.splat (f64.const -inf)))
        (local.set $vI (i64x2.splat (i64.const 0)))
        (local.set $vj (v128.const i64x2 0 1))
        (local.set $y1s (f64.const -inf))
        (local.set $y2s (f64.const -inf))
        (local.set $Is (i32.const 0))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then
            (local.set $aii (f64.load (i32.add (local.get $pA) (local.get $di))))
            (local.set $sS (f64.load (i32.add (local.get $pS) (local.get $di))))
            (f64.store (i32.add (local.get $pS) (local.get $di)) (f64.const -inf))
            (local.set $j (i32.const 0))
            (block $jdone
              (loop $jloop
                (br_if $jdone (i32.ge_u (local.get $j) (local.get $pend)))
                (local.set $va
                  (f64x2.sub
                    (f64x2.mul (v128.load (i32.add (local.get $pA) (local.get $j))) (local.get $vd))
                    (f64x2.mul
                      (f64x2.pmax (local.get $zero)
                        (f64x2.sub (f64x2.pmax (local.get $zero) (v128.load (i32.add (local.get $pR) (local.get $j))))
                                   (v128.load (i32.add (local.get $cs) (local.get $j)))))
                      (local.get $vomd))))
                (v128.store (i32.add (local.get $pA) (local.get $j)) (local.get $va))
                (local.set $vv (f64x2.add (local.get $va) (v128.load (i32.add (local.get $pS) (local.get $j)))))
                (local.set $m (f64x2.gt (local.get $vv) (local.get $vy1)))
                (local.set $vI (v128.bitselect (local.get $vj) (local.get $vI) (local.get $m)))
                (local.set $vy2 (f64x2.pmax (local.get $vy2) (f64x2.pmin (local.get $vv) (local.get $vy1))))
                (local.set $vy1 (f64x2.pmax (local.get $vy1) (local.get $vv)))
                (local.set $vj (i64x2.add (local.get $vj) (local.get $two)))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $jloop)))
            (f64.store (i32.add (local.get $pS) (local.get $di)) (local.get $sS))
            ;; diagonal: A = A·d − (R − colsum)·(1−d), unclipped
            (local.set $aii (f64.sub (f64.mul (local.get $aii) (local.get $d))
                                     (f64.mul (f64.sub (local.get $rii) (f64.load (i32.add (local.get $cs) (local.get $di)))) (local.get $omd))))
            (f64.store (i32.add (local.get $pA) (local.get $di)) (local.get $aii))
            (local.set $y1s (f64.add (local.get $aii) (local.get $sS)))
            (local.set $Is (local.get $i))
            ;; odd tail column n−1 (not the diagonal)
            (if (i32.and (i32.ne (local.get $pend) (local.get $nb)) (i32.ne (local.get $di) (local.get $pend)))
              (then
                (local.set $a
                  (f64.sub
                    (f64.mul (f64.load (i32.add (local.get $pA) (local.get $pend))) (local.get $d))
                    (f64.mul
                      (f64.max (f64.sub (f64.max (f64.load (i32.add (local.get $pR) (local.get $pend))) (f64.const 0))
                                        (f64.load (i32.add (local.get $cs) (local.get $pend))))
                               (f64.const 0))
                      (local.get $omd))))
                (f64.store (i32.add (local.get $pA) (local.get $pend)) (local.get $a))
                (local.set $v (f64.add (local.get $a) (f64.load (i32.add (local.get $pS) (local.get $pend)))))
                (if (f64.gt (local.get $v) (local.get $y2s))
                  (then
                    (if (f64.gt (local.get $v) (local.get $y1s))
                      (then
                        (local.set $y2s (local.get $y1s))
                        (local.set $y1s (local.get $v))
                        (local.set $Is (i32.sub (local.get $n) (i32.const 1))))
                      (else (local.set $y2s (local.get $v))))))))
            ;; E and run-length counter
            (local.set $e (f64.gt (f64.add (local.get $aii) (local.get $rii)) (f64.const 0)))
            (if (i32.eq (local.get $e) (i32.load8_u (i32.add (local.get $E) (local.get $i))))
              (then
                (i32.store (i32.add (local.get $run) (i32.shl (local.get $i) (i32.const 2)))
                  (i32.add (i32.load (i32.add (local.get $run) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 1))))
              (else
                (i32.store8 (i32.add (local.get $E) (local.get $i)) (local.get $e))
                (i32.store (i32.add (local.get $run) (i32.shl (local.get $i) (i32.const 2))) (i32.const 1))))
            (local.set $K (i32.add (local.get $K) (local.get $e))))
          (else
            (if (i32.and (local.get $flags) (i32.const 2))
              (then
                (local.set $j (i32.const 0))
                (block $j2done
                  (loop $j2loop
                    (br_if $j2done (i32.ge_u (local.get $j) (local.get $pend)))
                    (local.set $vv (f64x2.add (v128.load (i32.add (local.get $pA) (local.get $j)))
                                              (v128.load (i32.add (local.get $pS) (local.get $j)))))
                    (local.set $m (f64x2.gt (local.get $vv) (local.get $vy1)))
                    (local.set $vI (v128.bitselect (local.get $vj) (local.get $vI) (local.get $m)))
                    (local.set $vy2 (f64x2.pmax (local.get $vy2) (f64x2.pmin (local.get $vv) (local.get $vy1))))
                    (local.set $vy1 (f64x2.pmax (local.get $vy1) (local.get $vv)))
                    (local.set $vj (i64x2.add (local.get $vj) (local.get $two)))
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $j2loop)))
                (if (i32.ne (local.get $pend) (local.get $nb))
                  (then
                    (local.set $y1s (f64.add (f64.load (i32.add (local.get $pA) (local.get $pend)))
                                             (f64.load (i32.add (local.get $pS) (local.get $pend)))))
                    (local.set $Is (i32.sub (local.get $n) (i32.const 1)))))))))
        (if (i32.and (local.get $flags) (i32.const 2))
          (then
            ;; merge: lane 0, then lane 1, then the scalar group (smallest index wins ties)
            (local.set $y1 (f64x2.extract_lane 0 (local.get $vy1)))
            (local.set $y2 (f64x2.extract_lane 0 (local.get $vy2)))
            (local.set $I (i32.wrap_i64 (i64x2.extract_lane 0 (local.get $vI))))
            (local.set $g1 (f64x2.extract_lane 1 (local.get $vy1)))
            (local.set $g2 (f64x2.extract_lane 1 (local.get $vy2)))
            (local.set $I1 (i32.wrap_i64 (i64x2.extract_lane 1 (local.get $vI))))
            (if (i32.or (f64.gt (local.get $g1) (local.get $y1))
                        (i32.and (f64.eq (local.get $g1) (local.get $y1)) (i32.lt_u (local.get $I1) (local.get $I))))
              (then
                (if (f64.lt (local.get $y1) (local.get $g2)) (then (local.set $y2 (local.get $g2))) (else (local.set $y2 (local.get $y1))))
                (local.set $y1 (local.get $g1))
                (local.set $I (local.get $I1)))
              (else
                (if (f64.lt (local.get $y2) (local.get $g1)) (then (local.set $y2 (local.get $g1))))))
            (if (i32.or (f64.gt (local.get $y1s) (local.get $y1))
                        (i32.and (f64.eq (local.get $y1s) (local.get $y1)) (i32.lt_u (local.get $Is) (local.get $I))))
              (then
                (if (f64.lt (local.get $y1) (local.get $y2s)) (then (local.set $y2 (local.get $y2s))) (else (local.set $y2 (local.get $y1))))
                (local.set $y1 (local.get $y1s))
                (local.set $I (local.get $Is)))
              (else
                (if (f64.lt (local.get $y2) (local.get $y1s)) (then (local.set $y2 (local.get $y1s))))))
            ;; R = R·d + (S − Y)·(1−d) over the whole row with Y = y1, then columns I and i redone
            ;; from their saved R and column-sum values (so those get exactly one, correct, term).
            (local.set $rI (f64.load (i32.add (local.get $pR) (i32.shl (local.get $I) (i32.const 3)))))
            (local.set $nI (f64.load (i32.add (local.get $ncs) (i32.shl (local.get $I) (i32.const 3)))))
            (local.set $ni (f64.load (i32.add (local.get $ncs) (local.get $di))))
            (local.set $vy1 (f64x2.splat (local.get $y1)))
            (local.set $j (i32.const 0))
            (if (i32.and (local.get $flags) (i32.const 4))
              (then
                (block $j3done
                  (loop $j3loop
                    (br_if $j3done (i32.ge_u (local.get $j) (local.get $pend)))
                    (local.set $vr
                      (f64x2.add (f64x2.mul (v128.load (i32.add (local.get $pR) (local.get $j))) (local.get $vd))
                                 (f64x2.mul (f64x2.sub (v128.load (i32.add (local.get $pS) (local.get $j))) (local.get $vy1)) (local.get $vomd))))
                    (v128.store (i32.add (local.get $pR) (local.get $j)) (local.get $vr))
                    (v128.store (i32.add (local.get $ncs) (local.get $j))
                      (f64x2.add (v128.load (i32.add (local.get $ncs) (local.get $j))) (f64x2.pmax (local.get $zero) (local.get $vr))))
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $j3loop))))
              (else
                (block $j4done
                  (loop $j4loop
                    (br_if $j4done (i32.ge_u (local.get $j) (local.get $pend)))
                    (v128.store (i32.add (local.get $pR) (local.get $j))
                      (f64x2.add (f64x2.mul (v128.load (i32.add (local.get $pR) (local.get $j))) (local.get $vd))
                                 (f64x2.mul (f64x2.sub (v128.load (i32.add (local.get $pS) (local.get $j))) (local.get $vy1)) (local.get $vomd))))
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $j4loop)))))
            (if (i32.ne (local.get $pend) (local.get $nb))
              (then
                (local.set $r (f64.add (f64.mul (f64.load (i32.add (local.get $pR) (local.get $pend))) (local.get $d))
                                       (f64.mul (f64.sub (f64.load (i32.add (local.get $pS) (local.get $pend))) (local.get $y1)) (local.get $omd))))
                (f64.store (i32.add (local.get $pR) (local.get $pend)) (local.get $r))
                (if (i32.and (local.get $flags) (i32.const 4))
                  (then
                    (f64.store (i32.add (local.get $ncs) (local.get $pend))
                      (f64.add (f64.load (i32.add (local.get $ncs) (local.get $pend))) (f64.max (local.get $r) (f64.const 0))))))))
            (if (i32.ne (local.get $I) (local.get $i))
              (then
                (local.set $r (f64.add (f64.mul (local.get $rI) (local.get $d))
                                       (f64.mul (f64.sub (f64.load (i32.add (local.get $pS) (i32.shl (local.get $I) (i32.const 3)))) (local.get $y2)) (local.get $omd))))
                (f64.store (i32.add (local.get $pR) (i32.shl (local.get $I) (i32.const 3))) (local.get $r))
                (if (i32.and (local.get $flags) (i32.const 4))
                  (then (f64.store (i32.add (local.get $ncs) (i32.shl (local.get $I) (i32.const 3)))
                          (f64.add (local.get $nI) (f64.max (local.get $r) (f64.const 0))))))
                (local.set $r (f64.add (f64.mul (local.get $rii) (local.get $d))
                                       (f64.mul (f64.sub (f64.load (i32.add (local.get $pS) (local.get $di))) (local.get $y1)) (local.get $omd)))))
              (else
                (local.set $r (f64.add (f64.mul (local.get $rii) (local.get $d))
                                       (f64.mul (f64.sub (f64.load (i32.add (local.get $pS) (local.get $di))) (local.get $y2)) (local.get $omd))))))
            (f64.store (i32.add (local.get $pR) (local.get $di)) (local.get $r))
            (if (i32.and (local.get $flags) (i32.const 4))
              (then (f64.store (i32.add (local.get $ncs) (local.get $di)) (f64.add (local.get $ni) (local.get $r)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
    (local.get $K))

  ;; ncs[j] += (i ≠ j ? max(R[i,j], 0) : R[j,j]) for rows [r0, r1) in row order, columns [c0, c1):
  ;; finishes the column sums of rows whose responsibilities another thread computed (flag 4 off),
  ;; continuing each column's sum in numpy's row order. The diagonal column is redone from its
  ;; saved sum (as in ap_rows), so it gets exactly one term, R[i,i].
  (func (export "ap_colsum") (param $R i32) (param $ncs i32) (param $n i32) (param $r0 i32) (param $r1 i32) (param $c0 i32) (param $c1 i32)
    (local $i i32) (local $nb i32) (local $pR i32) (local $j i32) (local $jend i32) (local $pend i32) (local $di i32)
    (local $ni f64) (local $zero v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (local.set $zero (f64x2.splat (f64.const 0)))
    (local.set $jend (i32.shl (local.get $c1) (i32.const 3)))
    (local.set $pend (i32.add (i32.shl (local.get $c0) (i32.const 3))
                              (i32.shl (i32.and (i32.sub (local.get $c1) (local.get $c0)) (i32.const -2)) (i32.const 3))))
    (local.set $i (local.get $r0))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $r1)))
        (local.set $pR (i32.add (local.get $R) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $di (i32.shl (local.get $i) (i32.const 3)))
        (local.set $ni (f64.load (i32.add (local.get $ncs) (local.get $di))))
        (local.set $j (i32.shl (local.get $c0) (i32.const 3)))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $pend)))
            (v128.store (i32.add (local.get $ncs) (local.get $j))
              (f64x2.add (v128.load (i32.add (local.get $ncs) (local.get $j)))
                         (f64x2.pmax (local.get $zero) (v128.load (i32.add (local.get $pR) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $jloop)))
        (if (i32.lt_u (local.get $pend) (local.get $jend))
          (then
            (f64.store (i32.add (local.get $ncs) (local.get $pend))
              (f64.add (f64.load (i32.add (local.get $ncs) (local.get $pend)))
                       (f64.max (f64.load (i32.add (local.get $pR) (local.get $pend))) (f64.const 0))))))
        (if (i32.and (i32.ge_u (local.get $i) (local.get $c0)) (i32.lt_u (local.get $i) (local.get $c1)))
          (then
            (f64.store (i32.add (local.get $ncs) (local.get $di))
              (f64.add (local.get $ni) (f64.load (i32.add (local.get $pR) (local.get $di)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Column statistics of a row-major n × d matrix at x (linalg/columnStats.ts; twins in JS there).
  ;; Every column's accumulator is updated row after row, as the JS loops do; the lanes hold two
  ;; neighbouring columns, the last column of an odd d goes through the scalar tail.

  ;; sum[j] += x[i][j]; varies[j] |= (x[i][j] != first[j])  (varies: all-ones bits when set)
  (func (export "col_sum_varies") (param $x i32) (param $n i32) (param $d i32) (param $sum i32) (param $first i32) (param $varies i32)
    (local $i i32) (local $j i32) (local $row i32) (local $v v128) (local $jb i32) (local $d2 i32) (local $s f64)
    (local.set $d2 (i32.and (local.get $d) (i32.const -2)))
    (local.set $row (local.get $x))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.ge_u (local.get $j) (local.get $d2)))
            (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
            (local.set $v (v128.load (i32.add (local.get $row) (local.get $jb))))
            (v128.store (i32.add (local.get $sum) (local.get $jb))
              (f64x2.add (v128.load (i32.add (local.get $sum) (local.get $jb))) (local.get $v)))
            (v128.store (i32.add (local.get $varies) (local.get $jb))
              (v128.or (v128.load (i32.add (local.get $varies) (local.get $jb)))
                       (f64x2.ne (local.get $v) (v128.load (i32.add (local.get $first) (local.get $jb))))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_u (local.get $j) (local.get $d))
          (then
            (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
            (local.set $s (f64.load (i32.add (local.get $row) (local.get $jb))))
            (f64.store (i32.add (local.get $sum) (local.get $jb))
              (f64.add (f64.load (i32.add (local.get $sum) (local.get $jb))) (local.get $s)))
            (if (f64.ne (local.get $s) (f64.load (i32.add (local.get $first) (local.get $jb))))
              (then (i64.store (i32.add (local.get $varies) (local.get $jb)) (i64.const -1))))))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $d) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; t = x[i][j] − m0[j]; res[j] += t; ss[j] += t·t
  (func (export "col_moments") (param $x i32) (param $n i32) (param $d i32) (param $m0 i32) (param $res i32) (param $ss i32)
    (local $i i32) (local $j i32) (local $row i32) (local $t v128) (local $jb i32) (local $d2 i32) (local $u f64)
    (local.set $d2 (i32.and (local.get $d) (i32.const -2)))
    (local.set $row (local.get $x))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.ge_u (local.get $j) (local.get $d2)))
            (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
            (local.set $t (f64x2.sub (v128.load (i32.add (local.get $row) (local.get $jb)))
                                     (v128.load (i32.add (local.get $m0) (local.get $jb)))))
            (v128.store (i32.add (local.get $res) (local.get $jb))
              (f64x2.add (v128.load (i32.add (local.get $res) (local.get $jb))) (local.get $t)))
            (v128.store (i32.add (local.get $ss) (local.get $jb))
              (f64x2.add (v128.load (i32.add (local.get $ss) (local.get $jb))) (f64x2.mul (local.get $t) (local.get $t))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_u (local.get $j) (local.get $d))
          (then
            (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
            (local.set $u (f64.sub (f64.load (i32.add (local.get $row) (local.get $jb)))
                                   (f64.load (i32.add (local.get $m0) (local.get $jb)))))
            (f64.store (i32.add (local.get $res) (local.get $jb))
              (f64.add (f64.load (i32.add (local.get $res) (local.get $jb))) (local.get $u)))
            (f64.store (i32.add (local.get $ss) (local.get $jb))
              (f64.add (f64.load (i32.add (local.get $ss) (local.get $jb))) (f64.mul (local.get $u) (local.get $u))))))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $d) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; x[i][j] = (x[i][j] − mean[j]) / std[j], in place
  (func (export "col_standardize") (param $x i32) (param $n i32) (param $d i32) (param $mean i32) (param $std i32)
    (local $i i32) (local $j i32) (local $row i32) (local $p i32) (local $jb i32) (local $d2 i32)
    (local.set $d2 (i32.and (local.get $d) (i32.const -2)))
    (local.set $row (local.get $x))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.ge_u (local.get $j) (local.get $d2)))
            (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
            (local.set $p (i32.add (local.get $row) (local.get $jb)))
            (v128.store (local.get $p)
              (f64x2.div (f64x2.sub (v128.load (local.get $p)) (v128.load (i32.add (local.get $mean) (local.get $jb))))
                         (v128.load (i32.add (local.get $std) (local.get $jb)))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_u (local.get $j) (local.get $d))
          (then
            (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
            (local.set $p (i32.add (local.get $row) (local.get $jb)))
            (f64.store (local.get $p)
              (f64.div (f64.sub (f64.load (local.get $p)) (f64.load (i32.add (local.get $mean) (local.get $jb))))
                       (f64.load (i32.add (local.get $std) (local.get $jb)))))))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $d) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
