"""The per-(design, layer) model: one compiled loop over designs and layer shapes (numba, one thread).

SCALE-Sim v3 stall-free closed forms (docs/references.md, Accelerator). GEMM view: M = output pixels,
N = filters, K = FH*FW*C. On an R x C array the spatial rows/cols and temporal extent (Sr, Sc, T) are
os: (M, N, K), ws: (K, N, M), is: (K, M, N); folds fr = ceil(Sr/R), fc = ceil(Sc/C). Compute cycles
are fr*fc*(2R + C + T - 2) - 1 for ws and is, fr*fc*(R + C + T - 2) - 1 for os. SRAM words: ifmap
reads M*K*fc (ws, os) or M*K (is); filter reads K*N (ws), K*N*fr (os), K*N*fc (is); ofmap writes
M*N*fr (ws, is) or M*N + fr*fc*(R + C) (os). ``fidelity="scalesim"`` returns exactly these.

``fidelity="physical"`` chooses a mapping per (design, layer), as a mapper would. The array's spatial
mapping is the dataflow; what is chosen is the order of the outer (buffer-level) loops and a block
size, from a small candidate set evaluated in closed form:

* ws: block the output pixels M into blocks of ``tile_m`` rows; per block, per column fold, stream the
  block's inputs through the array for every row fold. Candidates: the whole M (SCALE-Sim's order),
  the largest block whose partial sums (tile_m x C, 32-bit) fit half the ofmap buffer, the largest
  block whose inputs fit half the ifmap buffer. Inputs are refetched per column fold unless the
  block's inputs stay in the buffer; weights are refetched per block unless all weights fit.
* is: the same with the roles of M/N and inputs/weights swapped (``tile_n`` weight columns).
* ws and is, reduction split: output pixels in blocks whose partial sums for all N filters wait in the
  ofmap buffer (the whole buffer when one block holds the layer's, else half), per block the reduction
  in chunks of whole row folds whose reused slice (ws: the block's inputs, is: the weights) fits half its
  buffer, per chunk every column fold; each input is fetched once, weights once per block.
* os: partial sums stay in the PEs; candidates are SCALE-Sim's order (per R rows, all column folds),
  the column-major order, input blocks (rows whose inputs fit) or weight blocks (columns whose weights
  fit) reused across the other operand's folds, and a reduction split into chunks whose K x C weight
  slice fits the filter buffer, the partial sums of a column fold waiting in the ofmap buffer (32-bit,
  read and written once per chunk; spilled to DRAM if they do not fit).

An operand used p times at the buffer level is fetched once plus (p - 1) times the part that does not
stay resident (the resident part stays pinned, so a bigger buffer never adds traffic). Partial sums
that do not fit spill to DRAM as 32-bit words and come back. The candidate with the least dynamic
energy of what the mapping changes wins: DRAM I/O, SRAM fills, stationary-tile reloads and leakage over
its run time (DRAM traffic dominates it, and breaks ties). Pure traffic minimisation was tried first: it picks blocks so
small that tile reloads cost more than the bytes they save, so that e.g. a wider number format could
lower a layer's energy. Leakage is priced at the node's nominal clock and supply, not the design's,
so that a faster clock never switches a layer to a slower mapping. Compute is pipelined: a fold's stationary
tile shifts in behind the previous fold (double-buffered, as TPU v1's weights), so a fold takes
max(T_block, R) cycles per block (the last block of a sequence holds only what is left) and the array
fills and drains once per block sequence:
cycles = max(compute, DRAM bytes / bytes per cycle) + the time to load the first stationary tile.

How it is computed: the kernel takes the designs in chunks of ``CHUNK``, groups a chunk by dataflow
and, per distinct layer shape, runs one loop over the group's designs that evaluates every candidate in
closed form and keeps the best with selects, not branches, so LLVM vectorises it (``_ws_shape``,
``_is_shape``, ``_os_shape``; one block per candidate: ws/is candidates 0-3 in ``_wsis_shape``, the
first three through ``_wsis_candidate``, os candidates 0-4 in ``_os_shape``; a tie goes to the earlier
candidate). A second pass writes each design's rows layer by layer (repeats, chaining). Fused
multiply-adds are explicit (``_fma``), so the roundings do not depend on how the code is laid out.
``candidate_costs`` runs the same per-shape functions with recording switched on (a constant at each
call site, so ``simulate``'s compiled loops do not carry it) and returns every candidate's figures: the
per-layer cost models' mapping inputs (``dsegym.datasets.layers.mapping_candidates``) come from it.

>>> import numpy as np
>>> lay, shape_of = unique_layers(*[np.array(v) for v in ([8, 4, 8], [8, 4, 8], [8, 4, 8], [64, 16, 64])])
>>> lay["M"].tolist(), shape_of.tolist()
([4.0, 8.0], [1, 0, 1])
"""
from __future__ import annotations

import numpy as np

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the module importable
    def njit(*args, **kwargs):
        return (lambda f: f) if not args or not callable(args[0]) else args[0]

WS, OS, IS = 0, 1, 2  # codes of the dataflows, in space.DATAFLOWS order
LOOP_ORDERS = ("mnk", "nmk")  # outer-to-inner buffer-level loops: M blocks outer, or N blocks outer
PSUM_BYTES = 4.0

# names and dtypes of the per-design inputs of the kernel, in argument order
DESIGN_FIELDS = ("R", "C", "df", "cap_i", "cap_w", "cap_p", "a_b", "w_b", "inv_bpc", "e_mac", "e_if", "e_f",
                 "e_of", "e_fill_i", "e_fill_w", "e_fill_o", "e_dram", "static_pj", "static_ref", "inv_bpc_ref",
                 "e_psum")
COUNT_COLUMNS = ("compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes", "cycles",
                 "dram_bytes", "tile_m", "tile_n")
FLOAT_COLUMNS = ("energy_pj", "energy_mac_pj", "energy_sram_pj", "energy_dram_pj", "energy_static_pj",
                 "utilization")


def unique_layers(M, N, K, I):
    """Columns of the distinct layer shapes (float64) and the map from each layer to its shape.

    Identical shapes give identical results, so each is simulated once (ResNet-18: 21 layers, 12 shapes).
    """
    key = np.stack([M, N, K, I], axis=1)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    cols = {name: np.ascontiguousarray(uniq[:, j].astype(np.float64)) for j, name in enumerate("MNKI")}
    return cols, inverse.reshape(-1).astype(np.int64)


# Fused multiply-adds are explicit (``_fma``) and the kernel is compiled without fastmath's "contract",
# so that where a rounding happens does not depend on how LLVM lays out or vectorises the code: the
# fused ones are those the scalar kernel this one replaced had (it was compiled with "contract"), and
# the results are bit-identical to it.
FASTMATH = {"nnan", "ninf", "nsz"}
CHUNK = 128  # designs per chunk: a chunk's per-(shape, design) intermediates stay in the L2 cache

try:
    from llvmlite import ir as _llvm_ir
    from numba.core import cgutils as _cgutils
    from numba.core import types as _types
    from numba.core.extending import intrinsic as _intrinsic

    @_intrinsic
    def _fma(typingctx, a, b, c):
        """a * b + c rounded once (LLVM's fma: one instruction, vectorisable)."""
        sig = _types.float64(_types.float64, _types.float64, _types.float64)

        def codegen(context, builder, signature, args):
            dbl = _llvm_ir.DoubleType()
            fn = _cgutils.get_or_insert_function(builder.module, _llvm_ir.FunctionType(dbl, [dbl] * 3),
                                                 "llvm.fma.f64")
            return builder.call(fn, args)
        return sig, codegen
except ImportError:  # pragma: no cover - without numba: close, not bit-identical
    def _fma(a, b, c):
        return a * b + c


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _ceil_div(a, b):
    return np.ceil(a / b)


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _block(limit, granule, whole):
    """Largest multiple of ``granule`` <= limit, at least one granule, at most ``whole``."""
    b = np.floor(limit / granule) * granule
    b = max(b, granule)
    b = min(b, whole)
    return b


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _refetch(total, resident, passes):
    """Bytes of an operand of ``total`` bytes used ``passes`` times with ``resident`` bytes kept on chip."""
    miss = total - resident
    miss = max(miss, 0.0)
    return _fma(passes - 1.0, miss, total)


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _stream_time(whole, blk, floor):
    """Cycles to stream ``whole`` items through a fold in blocks of ``blk`` (the last block holds what is
    left, not a whole block), each block taking at least ``floor`` cycles (the next stationary tile's load)."""
    nblk = _ceil_div(whole, blk)
    last = whole - (nblk - 1.0) * blk
    return _fma(nblk - 1.0, max(blk, floor), max(last, floor))


# Rows of a chunk's intermediate array res[shape, row, design]: what the per-layer pass reads.
(_COMPUTE, _IF_READS, _F_READS, _OF_WRITES, _CYCLES, _DRAM, _TILE_M, _TILE_N, _E_MAC, _E_SRAM, _E_DRAM,
 _E_STATIC, _UTIL, _RUN, _FIRST, _I_B, _O_B, _MACS, _ORDER) = range(19)
_ROWS = 19
_SAVED = _ROWS  # one more row in candidate_costs' intermediate array
CANDIDATES = 5  # the most candidate mappings of one dataflow (os; ws and is have 4)
# rows of candidate_costs' per-candidate array cand[row, candidate, pair]
_C_RUN, _C_TRAFFIC, _C_CYCLES, _C_VALID, _C_CHAINED = range(5)
_C_ROWS = 5


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _cycles(run, first, traffic, inv_bpc):
    """Latency of a mapping: compute overlapped with its DRAM traffic, after the first stationary tile."""
    return np.ceil(_fma(first, inv_bpc, max(run, traffic * inv_bpc)))


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _saved(i_b, o_b, cap_i, chain_in, chain_out):
    """DRAM bytes a network saves on a layer: its input (output) stays on chip when the layer has a
    neighbour before (after) it and the activations fit half the ifmap buffer."""
    saved = 0.0
    saved += i_b if chain_in and i_b <= cap_i else 0.0
    saved += o_b if chain_out and o_b <= cap_i else 0.0
    return saved


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _record(rec, cand, c, j, valid, run, traffic, cycles):
    """With ``rec`` (a constant at each call site, so the simulate path compiles without this), keep
    candidate ``c``'s figures for :func:`candidate_costs`."""
    if rec:
        cand[_C_RUN, c, j] = run
        cand[_C_TRAFFIC, c, j] = traffic
        cand[_C_CYCLES, c, j] = cycles
        cand[_C_VALID, c, j] = 1.0 if valid else 0.0


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _mapping_costs(traffic, i_dram, w_dram, o_dram, sram_extra, run, first, inv_bpc, e_fill_i, e_fill_w,
                   e_fill_o, e_dram, inv_bpc_ref, static_ref):
    """Cycles, SRAM-fill energy and the mapper's score of one candidate mapping."""
    c_cycles = _cycles(run, first, traffic, inv_bpc)
    c_fill = _fma(o_dram, e_fill_o, _fma(i_dram, e_fill_i, w_dram * e_fill_w))
    # the energy the mapping changes, with leakage priced at the node's nominal clock so that the choice
    # does not depend on the clock: a faster clock never switches a layer to a slower mapping
    score = _fma(max(run, traffic * inv_bpc_ref), static_ref, _fma(traffic, e_dram, c_fill) + sram_extra)
    return c_cycles, c_fill, score


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _wsis_candidate(blk, ws, whole, blk_b, other_b, cap_blk, cap_other, fr, fc, Sc, C, R, cap_p, O_b, reload_words,
                    e_reload, folds, extra):
    """ws/is: blocks of ``blk`` (of ``whole``) rows of the blocked operand (ws: output pixels, is: filters);
    per block, per column fold, the block streams through the array for every row fold.

    Returns DRAM traffic, the inputs' and weights' and outputs' DRAM bytes, extra SRAM energy, run cycles
    and the number of blocks (the stationary tile's passes).
    """
    nblk = _ceil_div(whole, blk)
    part = blk_b * blk / whole
    blk_dram = _fma((fc - 1.0) * nblk, max(part - cap_blk, 0.0), blk_b)
    other_dram = _refetch(other_b, cap_other, nblk)
    # partial sums of a block that do not fit half the ofmap buffer spill to DRAM between row folds
    over = min(blk, whole) * min(Sc, C) - cap_p
    spill = (fr - 1.0) * fc * nblk * over * 2.0 * PSUM_BYTES if (fr > 1.0) & (over > 0.0) else 0.0
    traffic = blk_dram + other_dram + spill + O_b
    # the stationary tile is reloaded once per block: more weight (is: input) loads
    sram_extra = (nblk - 1.0) * reload_words * e_reload
    i_dram = blk_dram if ws else other_dram
    w_dram = other_dram if ws else blk_dram
    # pipelined folds: the next stationary tile shifts in while the current one computes; per fold the
    # blocks stream one after another, the last one holding only what is left
    run = _fma(folds, _stream_time(whole, blk, R), extra)
    return traffic, i_dram, w_dram, O_b + spill, sram_extra, run, nblk


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _wins(score, traffic, best, dram):
    """A candidate beats the best so far: a lower score, or the same score with less DRAM traffic."""
    return (score < best) | ((score == best) & (traffic < dram))


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _choose(win, new, old):
    """``new`` if ``win`` else ``old`` (a value or a tuple): a select, so the loop over designs vectorises."""
    return new if win else old


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _wsis_shape(ws, lo, hi, physical, M, N, K, I, d, out, rec, cand):
    """Every design of a ws (or is) chunk on one layer shape: SCALE-Sim's counts and the chosen mapping
    (with ``rec``, every candidate's figures go to ``cand`` too)."""
    # ws: (Sr, Sc, T) = (K, N, M), blocks of output pixels; is: (K, M, N), blocks of filters
    Sc = N if ws else M
    T = M if ws else N
    stat_words = K * N if ws else M * K  # words of the stationary operand, read once per pass
    stream_words = M * K if ws else K * N  # words of the streamed operand, read once per column fold
    macs = M * N * K
    for j in range(np.uint64(lo), np.uint64(hi)):
        R = d[0, j]
        C = d[1, j]
        cap_i = d[3, j]
        cap_w = d[4, j]
        cap_p = d[5, j]
        a_b = d[6, j]
        w_b = d[7, j]
        inv_bpc = d[8, j]
        extra = 2.0 * R + C - 2.0
        fr = _ceil_div(K, R)
        fc = _ceil_div(Sc, C)
        folds = fr * fc
        compute = _fma(folds, T + extra, -1.0)
        of_writes = M * N * fr
        stream_reads = stream_words * fc
        e_stat = d[11, j] if ws else d[10, j]  # pJ per stationary word read (ws: filter, is: ifmap)
        cross = min(Sc, C)  # the tile across the array's columns
        if physical:
            I_b = I * a_b
            W_b = K * N * w_b
            O_b = M * N * a_b
            blk_b = I_b if ws else W_b
            other_b = W_b if ws else I_b
            cap_blk = cap_i if ws else cap_w
            cap_other = cap_w if ws else cap_i
            first = min(K, R) * cross * (w_b if ws else a_b)  # the first stationary tile, before compute
            e_fill_i = d[13, j]
            e_fill_w = d[14, j]
            e_fill_o = d[15, j]
            e_dram = d[16, j]
            static_ref = d[18, j]
            inv_bpc_ref = d[19, j]
            # -- candidate 0: the whole of M (ws) or N (is): SCALE-Sim's order
            blk = T
            traffic, i_dram, w_dram, o_dram, sram_extra, run, nblk = _wsis_candidate(
                blk, ws, T, blk_b, other_b, cap_blk, cap_other, fr, fc, Sc, C, R, cap_p, O_b, stat_words, e_stat,
                folds, extra)
            cycles, fill, best = _mapping_costs(traffic, i_dram, w_dram, o_dram, sram_extra, run, first, inv_bpc,
                                                e_fill_i, e_fill_w, e_fill_o, e_dram, inv_bpc_ref, static_ref)
            _record(rec, cand, 0, j, True, run, traffic, cycles)
            dram, tile, passes, best_run = traffic, blk, nblk, run
            # -- candidate 1: the largest block whose partial sums fit half the ofmap buffer
            blk = _block(cap_p / C, 1.0, T)
            traffic, i_dram, w_dram, o_dram, sram_extra, run, nblk = _wsis_candidate(
                blk, ws, T, blk_b, other_b, cap_blk, cap_other, fr, fc, Sc, C, R, cap_p, O_b, stat_words, e_stat,
                folds, extra)
            c_cycles, c_fill, score = _mapping_costs(traffic, i_dram, w_dram, o_dram, sram_extra, run, first,
                                                     inv_bpc, e_fill_i, e_fill_w, e_fill_o, e_dram, inv_bpc_ref,
                                                     static_ref)
            _record(rec, cand, 1, j, True, run, traffic, c_cycles)
            best, dram, tile, passes, cycles, fill, best_run = _choose(
                _wins(score, traffic, best, dram), (score, traffic, blk, nblk, c_cycles, c_fill, run),
                (best, dram, tile, passes, cycles, fill, best_run))
            # -- candidate 2: the largest block whose blocked operand fits half its buffer
            blk = _block(cap_blk * T / blk_b, 1.0, T)
            traffic, i_dram, w_dram, o_dram, sram_extra, run, nblk = _wsis_candidate(
                blk, ws, T, blk_b, other_b, cap_blk, cap_other, fr, fc, Sc, C, R, cap_p, O_b, stat_words, e_stat,
                folds, extra)
            c_cycles, c_fill, score = _mapping_costs(traffic, i_dram, w_dram, o_dram, sram_extra, run, first,
                                                     inv_bpc, e_fill_i, e_fill_w, e_fill_o, e_dram, inv_bpc_ref,
                                                     static_ref)
            _record(rec, cand, 2, j, True, run, traffic, c_cycles)
            best, dram, tile, passes, cycles, fill, best_run = _choose(
                _wins(score, traffic, best, dram), (score, traffic, blk, nblk, c_cycles, c_fill, run),
                (best, dram, tile, passes, cycles, fill, best_run))
            # -- candidate 3: reduction split (the order ZigZag's LOMA search finds on small buffers): output
            # pixels in blocks of mb whose partial sums for all N filters wait in the ofmap buffer; per block,
            # the reduction K in chunks of kc rows (whole row folds) whose slice of the operand reused across
            # the chunk's column folds (ws: the block's inputs, is: the weights) fits its buffer; per chunk,
            # every column fold. Each input is fetched once; the weights once per pixel block unless they all
            # stay. Partial sums parked for the whole layer (one block) may fill the whole buffer: they are
            # made on chip, so no half waits for a prefetch or a drain (ZigZag's force_double_buffering sizes
            # a tile that holds everything the same way); blocks that follow one another get half, the other
            # half draining the finished block (TPU v1 doubles its accumulators for this, Jouppi et al. ISCA
            # 2017 sec. 2). ws pixel blocks are any rows, is blocks whole column folds.
            one = M * N <= 2.0 * cap_p
            mb = M if one else _block(cap_p / N, 1.0 if ws else min(M, C), M)
            cap_ps = 2.0 * cap_p if one else cap_p
            nb = _ceil_div(M, mb)
            if ws:
                kc = _block(cap_i * M / (I_b * mb) * K, R, K)
                slice_b = I_b * (mb / M) * (kc / K)
                reuse = fc  # the input slice serves every column fold
            else:
                kc = _block(cap_w / (N * w_b), R, K)
                slice_b = kc * N * w_b
                reuse = _ceil_div(mb, C)  # the weight slice serves the block's column folds
            nk = _ceil_div(K, kc)
            # a slice that does not fit (one row fold already too big) streams again per reuse
            over_s = (reuse - 1.0) * nb * nk * max(slice_b - cap_blk, 0.0)  # cap_blk: ws cap_i, is cap_w
            w_dram = _refetch(W_b, cap_w, nb)
            i_dram = I_b + over_s if ws else I_b
            w_dram = w_dram if ws else w_dram + over_s
            spill = nb * max(mb * N - cap_ps, 0.0) * (nk - 1.0) * 2.0 * PSUM_BYTES
            o_dram = O_b + spill
            traffic = i_dram + w_dram + o_dram
            # ws: the weights are loaded into the array once per pixel block
            sram_extra = (nb - 1.0) * K * N * e_stat if ws else 0.0
            run = _fma(folds, _stream_time(M, mb, R) if ws else max(N, R), extra)
            nblk = nb if ws else 1.0
            blk = mb if ws else T
            c_cycles, c_fill, score = _mapping_costs(traffic, i_dram, w_dram, o_dram, sram_extra, run, first,
                                                     inv_bpc, e_fill_i, e_fill_w, e_fill_o, e_dram, inv_bpc_ref,
                                                     static_ref)
            _record(rec, cand, 3, j, True, run, traffic, c_cycles)
            best, dram, tile, passes, cycles, fill, best_run = _choose(
                _wins(score, traffic, best, dram), (score, traffic, blk, nblk, c_cycles, c_fill, run),
                (best, dram, tile, passes, cycles, fill, best_run))
            stat_reads = stat_words * passes
            whole_block = tile == T
        else:
            I_b = 0.0
            O_b = 0.0
            first = 0.0
            dram = 0.0
            fill = 0.0
            cycles = compute
            best_run = compute
            tile = T
            stat_reads = stat_words
            whole_block = True
        e_dram_part = dram * d[16, j]
        if ws:
            if_reads, f_reads = stream_reads, stat_reads
            tile_m, tile_n = tile, cross if physical else N
            order = 1.0 if whole_block else 0.0  # whole M: n blocks outer (SCALE-Sim's order)
        else:
            if_reads, f_reads = stat_reads, stream_reads
            tile_m, tile_n = cross if physical else M, tile
            order = 0.0 if whole_block else 1.0
        # ofmap: ws/is read-modify-write partial sums (the first write only writes)
        of_acc = (2.0 * of_writes - M * N) * d[12, j]
        e_sram = _fma(f_reads, d[11, j], if_reads * d[10, j]) + of_acc + fill
        out[_COMPUTE, j] = compute
        out[_IF_READS, j] = if_reads
        out[_F_READS, j] = f_reads
        out[_OF_WRITES, j] = of_writes
        out[_CYCLES, j] = cycles
        out[_DRAM, j] = dram
        out[_TILE_M, j] = tile_m
        out[_TILE_N, j] = tile_n
        out[_E_MAC, j] = macs * d[9, j]
        out[_E_SRAM, j] = e_sram
        out[_E_DRAM, j] = e_dram_part
        out[_E_STATIC, j] = cycles * d[17, j]
        out[_UTIL, j] = macs / (cycles * R * C)
        out[_RUN, j] = best_run
        out[_FIRST, j] = first
        out[_I_B, j] = I_b
        out[_O_B, j] = O_b
        out[_MACS, j] = macs
        out[_ORDER, j] = order


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _ws_shape(lo, hi, physical, M, N, K, I, d, out, rec, cand):
    _wsis_shape(True, lo, hi, physical, M, N, K, I, d, out, rec, cand)


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _is_shape(lo, hi, physical, M, N, K, I, d, out, rec, cand):
    _wsis_shape(False, lo, hi, physical, M, N, K, I, d, out, rec, cand)


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _os_shape(lo, hi, physical, M, N, K, I, d, out, rec, cand):
    """Every design of an os chunk on one layer shape: SCALE-Sim's counts and the chosen mapping
    (with ``rec``, every candidate's figures go to ``cand`` too)."""
    macs = M * N * K
    for j in range(np.uint64(lo), np.uint64(hi)):
        R = d[0, j]
        C = d[1, j]
        cap_i = d[3, j]
        cap_w = d[4, j]
        cap_p = d[5, j]
        a_b = d[6, j]
        w_b = d[7, j]
        inv_bpc = d[8, j]
        e_psum = d[20, j]
        extra = R + C - 2.0
        fr = _ceil_div(M, R)
        fc = _ceil_div(N, C)
        folds = fr * fc
        compute = _fma(folds, K + extra, -1.0)
        if_reads = M * K * fc
        f_reads = K * N * fr
        of_writes = _fma(folds, R + C, M * N)
        ncols = min(N, C)
        if physical:
            I_b = I * a_b
            W_b = K * N * w_b
            O_b = M * N * a_b
            e_fill_i = d[13, j]
            e_fill_w = d[14, j]
            e_fill_o = d[15, j]
            e_dram = d[16, j]
            static_ref = d[18, j]
            inv_bpc_ref = d[19, j]
            first = 0.0
            # -- candidate 0 (SCALE-Sim): per R rows, every column fold; weights once per row fold
            i_dram = _fma((fc - 1.0) * fr, max(I_b / fr - cap_i, 0.0), I_b)
            w_dram = _refetch(W_b, cap_w, fr)
            traffic = i_dram + w_dram + O_b
            run = _fma(folds, max(K, R), extra)
            cycles, fill, best = _mapping_costs(traffic, i_dram, w_dram, O_b, 0.0, run, first, inv_bpc, e_fill_i,
                                                e_fill_w, e_fill_o, e_dram, inv_bpc_ref, static_ref)
            _record(rec, cand, 0, j, True, run, traffic, cycles)
            dram, tile_m, tile_n, order, psum_words, best_run = traffic, min(M, R), N, 0.0, 0.0, run
            # -- candidate 1: per C columns, every row fold
            w_dram = W_b + (fr - 1.0) * fc * max(W_b / fc - cap_w, 0.0)
            i_dram = _refetch(I_b, cap_i, fc)
            traffic = i_dram + w_dram + O_b
            c_cycles, c_fill, score = _mapping_costs(traffic, i_dram, w_dram, O_b, 0.0, run, first, inv_bpc,
                                                     e_fill_i, e_fill_w, e_fill_o, e_dram, inv_bpc_ref, static_ref)
            _record(rec, cand, 1, j, True, run, traffic, c_cycles)
            win = _wins(score, traffic, best, dram)
            best, dram, cycles, fill, tile_m, tile_n, order = _choose(
                win, (score, traffic, c_cycles, c_fill, M, ncols, 1.0),
                (best, dram, cycles, fill, tile_m, tile_n, order))
            # -- candidate 2: input rows kept while all weights stream past
            blk = _block(cap_i * M / I_b, R, M)
            nblk = _ceil_div(M, blk)
            i_dram = _fma((fc - 1.0) * nblk, max(I_b * blk / M - cap_i, 0.0), I_b)
            w_dram = _fma((_ceil_div(blk, R) - 1.0) * nblk * fc * max(K * ncols * w_b - cap_w, 0.0),
                          1.0 if W_b > cap_w else 0.0, _refetch(W_b, cap_w, nblk))
            traffic = i_dram + w_dram + O_b
            c_cycles, c_fill, score = _mapping_costs(traffic, i_dram, w_dram, O_b, 0.0, run, first, inv_bpc,
                                                     e_fill_i, e_fill_w, e_fill_o, e_dram, inv_bpc_ref, static_ref)
            _record(rec, cand, 2, j, True, run, traffic, c_cycles)
            win = _wins(score, traffic, best, dram)
            best, dram, cycles, fill, tile_m, tile_n, order = _choose(
                win, (score, traffic, c_cycles, c_fill, blk, N, 0.0),
                (best, dram, cycles, fill, tile_m, tile_n, order))
            # -- candidate 3: weight columns kept while all inputs stream past
            blk = _block(cap_w / (K * w_b), C, N)
            nblk = _ceil_div(N, blk)
            w_dram = _fma((fr - 1.0) * nblk, max(W_b * blk / N - cap_w, 0.0), W_b)
            i_dram = _fma((_ceil_div(blk, C) - 1.0) * nblk * fr * max(I_b / fr - cap_i, 0.0),
                          1.0 if I_b > cap_i else 0.0, _refetch(I_b, cap_i, nblk))
            traffic = i_dram + w_dram + O_b
            c_cycles, c_fill, score = _mapping_costs(traffic, i_dram, w_dram, O_b, 0.0, run, first, inv_bpc,
                                                     e_fill_i, e_fill_w, e_fill_o, e_dram, inv_bpc_ref, static_ref)
            _record(rec, cand, 3, j, True, run, traffic, c_cycles)
            win = _wins(score, traffic, best, dram)
            best, dram, cycles, fill, tile_m, tile_n, order = _choose(
                win, (score, traffic, c_cycles, c_fill, M, blk, 1.0),
                (best, dram, cycles, fill, tile_m, tile_n, order))
            # -- candidate 4: reduction split into chunks whose weight slice fits; the partial sums of a
            # column fold wait in the ofmap buffer between chunks (spilled to DRAM if they do not fit)
            kc = min(K, max(1.0, np.floor(cap_w / (ncols * w_b))))
            nk = _ceil_div(K, kc)
            w_dram = _fma(max(M * ncols - cap_p, 0.0) * fc * (nk - 1.0) * 2.0, PSUM_BYTES, W_b)
            i_dram = _refetch(I_b, cap_i, fc)
            traffic = i_dram + w_dram + O_b
            c_psum_words = 2.0 * (nk - 1.0) * M * N
            c_run = _fma(folds, _stream_time(K, kc, R), extra)
            c_cycles, c_fill, score = _mapping_costs(traffic, i_dram, w_dram, O_b, c_psum_words * e_psum, c_run,
                                                     first, inv_bpc, e_fill_i, e_fill_w, e_fill_o, e_dram,
                                                     inv_bpc_ref, static_ref)
            _record(rec, cand, 4, j, nk > 1.0, c_run, traffic, c_cycles)
            win = (nk > 1.0) & _wins(score, traffic, best, dram)
            best, dram, cycles, fill, tile_m, tile_n, order, psum_words, best_run = _choose(
                win, (score, traffic, c_cycles, c_fill, M, ncols, 1.0, c_psum_words, c_run),
                (best, dram, cycles, fill, tile_m, tile_n, order, psum_words, best_run))
            of_writes += psum_words
        else:
            I_b = 0.0
            O_b = 0.0
            first = 0.0
            dram = 0.0
            fill = 0.0
            cycles = compute
            best_run = compute
            tile_m = M
            tile_n = N
            order = 0.0
            psum_words = 0.0
        # finished outputs, plus any 32-bit partial sums parked between reduction chunks
        of_acc = _fma(psum_words, e_psum, (of_writes - psum_words) * d[12, j])
        e_sram = _fma(f_reads, d[11, j], if_reads * d[10, j]) + of_acc + fill
        out[_COMPUTE, j] = compute
        out[_IF_READS, j] = if_reads
        out[_F_READS, j] = f_reads
        out[_OF_WRITES, j] = of_writes
        out[_CYCLES, j] = cycles
        out[_DRAM, j] = dram
        out[_TILE_M, j] = tile_m
        out[_TILE_N, j] = tile_n
        out[_E_MAC, j] = macs * d[9, j]
        out[_E_SRAM, j] = e_sram
        out[_E_DRAM, j] = dram * d[16, j]
        out[_E_STATIC, j] = cycles * d[17, j]
        out[_UTIL, j] = macs / (cycles * R * C)
        out[_RUN, j] = best_run
        out[_FIRST, j] = first
        out[_I_B, j] = I_b
        out[_O_B, j] = O_b
        out[_MACS, j] = macs
        out[_ORDER, j] = order


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _kernel(M_, N_, K_, I_, shape_of, rep, chain_in, chain_out, d, physical, ints, floats, order):
    n = d.shape[1]
    F = d.shape[0]
    Lu = M_.shape[0]
    # A chunk of consecutive designs is grouped by dataflow (stably), so that each group's loops over
    # designs have no branches (LLVM vectorises them); outputs are then written in design order, so
    # that every cache line of the outputs is written once.
    perm = np.empty(CHUNK, dtype=np.int64)
    pos = np.empty(CHUNK, dtype=np.int64)
    starts = np.empty(4, dtype=np.int64)
    # rows padded by 8 designs: a stride of a power of two would put every row in the same cache sets
    buf = np.empty((F, CHUNK + 8))
    res = np.empty((Lu, _ROWS, CHUNK + 8))
    no_rec = np.empty((_C_ROWS, CANDIDATES, 1))  # never written: rec is False below
    for s in range(0, n, CHUNK):
        m = min(CHUNK, n - s)
        starts[:] = 0
        for j in range(m):
            starts[int(d[2, s + j]) + 1] += 1
        for g in range(3):
            starts[g + 1] += starts[g]
        for j in range(m):
            g = int(d[2, s + j])
            perm[starts[g]] = j
            pos[j] = starts[g]
            starts[g] += 1
        for g in range(3, 0, -1):  # back to the groups' first positions
            starts[g] = starts[g - 1]
        starts[0] = 0
        for f in range(F):
            for p in range(m):
                buf[f, p] = d[f, s + perm[p]]
        for u in range(Lu):
            _ws_shape(starts[WS], starts[WS + 1], physical, M_[u], N_[u], K_[u], I_[u], buf, res[u], False, no_rec)
            _os_shape(starts[OS], starts[OS + 1], physical, M_[u], N_[u], K_[u], I_[u], buf, res[u], False, no_rec)
            _is_shape(starts[IS], starts[IS + 1], physical, M_[u], N_[u], K_[u], I_[u], buf, res[u], False, no_rec)
        for j in range(m):
            _store_design(s + j, pos[j], buf, res, shape_of, rep, chain_in, chain_out, physical, ints, floats,
                          order)


@njit(cache=True, inline="always", error_model="numpy", fastmath=FASTMATH)
def _store_design(i, j, d, res, shape_of, rep, chain_in, chain_out, physical, ints, floats, order):
    """One design's rows of the outputs, layer by layer (a layer's repeat multiplies its counts and
    energies; chained layers keep activations that fit half the ifmap buffer on chip)."""
    R = d[0, j]
    C = d[1, j]
    cap_i = d[3, j]
    inv_bpc = d[8, j]
    e_dram = d[16, j]
    static_pj = d[17, j]
    for layer in range(shape_of.shape[0]):
        u = shape_of[layer]
        r = rep[layer]
        cyc = res[u, _CYCLES, j]
        dram = res[u, _DRAM, j]
        e_d = res[u, _E_DRAM, j]
        e_s = res[u, _E_STATIC, j]
        util = res[u, _UTIL, j]
        if physical and (chain_in[layer] or chain_out[layer]):
            # activations that fit half the ifmap buffer stay on chip between consecutive layers
            # (without branches: which layers save is as good as random, a mispredicted branch costs more)
            i_b = res[u, _I_B, j]
            o_b = res[u, _O_B, j]
            saved = _saved(i_b, o_b, cap_i, chain_in[layer], chain_out[layer])
            c_dram = dram - saved
            c_cyc = _cycles(res[u, _RUN, j], res[u, _FIRST, j], c_dram, inv_bpc)
            c_util = res[u, _MACS, j] / (c_cyc * R * C)
            on_chip = saved > 0.0
            dram = c_dram if on_chip else dram
            cyc = c_cyc if on_chip else cyc
            e_d = c_dram * e_dram if on_chip else e_d
            e_s = c_cyc * static_pj if on_chip else e_s
            util = c_util if on_chip else util
        e_mac = res[u, _E_MAC, j]
        e_sram = res[u, _E_SRAM, j]
        ints[0, i, layer] = np.int64(res[u, _COMPUTE, j] * r)
        ints[1, i, layer] = np.int64(res[u, _IF_READS, j] * r)
        ints[2, i, layer] = np.int64(res[u, _F_READS, j] * r)
        ints[3, i, layer] = np.int64(res[u, _OF_WRITES, j] * r)
        ints[4, i, layer] = np.int64(cyc * r)
        ints[5, i, layer] = np.int64(np.ceil(dram) * r)
        ints[6, i, layer] = np.int64(res[u, _TILE_M, j])
        ints[7, i, layer] = np.int64(res[u, _TILE_N, j])
        floats[0, i, layer] = (e_mac + e_sram + e_d + e_s) * r
        floats[1, i, layer] = e_mac * r
        floats[2, i, layer] = e_sram * r
        floats[3, i, layer] = e_d * r
        floats[4, i, layer] = e_s * r
        floats[5, i, layer] = util
        order[i, layer] = np.int8(res[u, _ORDER, j])


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _candidate_kernel(M, N, K, I, d, out, cand):
    for j in range(d.shape[1]):
        df = int(d[2, j])
        if df == WS:
            _ws_shape(j, j + 1, True, M[j], N[j], K[j], I[j], d, out, True, cand)
        elif df == OS:
            _os_shape(j, j + 1, True, M[j], N[j], K[j], I[j], d, out, True, cand)
        else:
            _is_shape(j, j + 1, True, M[j], N[j], K[j], I[j], d, out, True, cand)
        # in a network, with a neighbour on both sides (as _store_design prices it)
        saved = _saved(out[_I_B, j], out[_O_B, j], d[3, j], True, True)
        out[_SAVED, j] = saved
        for c in range(CANDIDATES):
            cand[_C_CHAINED, c, j] = _cycles(cand[_C_RUN, c, j], out[_FIRST, j], cand[_C_TRAFFIC, c, j] - saved,
                                             d[8, j])


def candidate_costs(M, N, K, I, d) -> dict:
    """Every candidate mapping the mapper weighs for (design, layer) pairs, computed by the kernel's own
    candidate code (the per-shape functions record each candidate as they go), without choosing.

    ``M, N, K, I``: (n,) layer shapes (output pixels, filters, reduction, input elements); ``d``: the
    (len(DESIGN_FIELDS), n) inputs of each pair's design (``physics.design_inputs``). Returns (n,
    CANDIDATES) float64 arrays ``run`` (stall-free cycles), ``traffic`` (DRAM bytes, the layer's input
    and output included), ``cycles_alone`` (the latency ``simulate`` gives the layer alone) and
    ``cycles_chained`` (inside a network, with neighbours on both sides whose activations that fit half
    the ifmap buffer stay on chip: a lower bound of the layer's latency in any network); the (n,
    CANDIDATES) bool ``valid`` (ws and is have 4 candidates; the os reduction split exists only when
    the reduction is split; the other slots are NaN) and (n,) ``first`` (bytes of the first stationary
    tile), ``saved`` (bytes a network keeps on chip), ``I_b`` and ``O_b`` (the input's and output's
    bytes). The candidate ``simulate`` takes is one of the valid ones (the one with the least energy
    the mapping changes; see the module docstring).

    >>> import pandas as pd
    >>> from dsegym.envs.accelerator.designs import design_columns
    >>> from dsegym.envs.accelerator.physics import design_inputs, design_physics
    >>> cols, _ = design_columns(pd.DataFrame({"rows": [32, 32], "cols": [32, 32], "dataflow": ["ws", "os"]}))
    >>> c = candidate_costs(*(np.array([v, v]) for v in (784.0, 128.0, 1152.0, 100352.0)),
    ...                     design_inputs(cols, design_physics(cols)))
    >>> c["valid"].tolist()
    [[True, True, True, True, False], [True, True, True, True, True]]
    >>> bool((c["cycles_chained"][c["valid"]] <= c["cycles_alone"][c["valid"]]).all())
    True
    """
    d = np.ascontiguousarray(d, dtype=np.float64)
    n = d.shape[1]
    arrays = [np.ascontiguousarray(v, dtype=np.float64).reshape(-1) for v in (M, N, K, I)]
    if d.shape[0] != len(DESIGN_FIELDS) or any(len(v) != n for v in arrays):
        from ...errors import InvalidDesignError
        raise InvalidDesignError(f"candidate_costs needs ({len(DESIGN_FIELDS)}, n) design inputs and n layer shapes; "
                         f"got {d.shape} and {[len(v) for v in arrays]}")
    out = np.empty((_ROWS + 1, n))
    cand = np.full((_C_ROWS, CANDIDATES, n), np.nan)
    cand[_C_VALID] = 0.0
    _candidate_kernel(*arrays, d, out, cand)
    t = lambda row: np.ascontiguousarray(cand[row].T)  # noqa: E731
    return {"run": t(_C_RUN), "traffic": t(_C_TRAFFIC), "cycles_alone": t(_C_CYCLES),
            "cycles_chained": t(_C_CHAINED), "valid": t(_C_VALID) > 0.0, "first": out[_FIRST].copy(),
            "saved": out[_SAVED].copy(), "I_b": out[_I_B].copy(), "O_b": out[_O_B].copy()}


def evaluate(lay, shape_of, repeat, d, physical: bool, chained: bool = True):
    """Run the kernel: (8, n, L) int64 counts, (6, n, L) float32 energies/utilization, (n, L) int8 orders.

    ``d`` is the (len(DESIGN_FIELDS), n) float64 matrix of per-design inputs (see ``design_inputs``).
    ``chained``: the layers run in order, each reading the previous one's output (a network), so
    activations that fit half the ifmap buffer need not go to DRAM and back; the first layer's input and
    the last one's output always do.
    """
    n, L = d.shape[1], len(shape_of)
    ints = np.empty((len(COUNT_COLUMNS), n, L), dtype=np.int64)
    floats = np.empty((len(FLOAT_COLUMNS), n, L), dtype=np.float32)
    order = np.empty((n, L), dtype=np.int8)
    chain_in = np.zeros(L, dtype=np.bool_)
    chain_out = np.zeros(L, dtype=np.bool_)
    if chained and L > 1:
        chain_in[1:] = True
        chain_out[:-1] = True
    _kernel(lay["M"], lay["N"], lay["K"], lay["I"], shape_of, np.asarray(repeat, dtype=np.float64), chain_in,
            chain_out, np.ascontiguousarray(d), bool(physical), ints, floats, order)
    return ints, floats, order
