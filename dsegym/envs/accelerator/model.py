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


@njit(cache=True, inline="always", error_model="numpy")
def _ceil_div(a, b):
    return np.ceil(a / b)


@njit(cache=True, inline="always", error_model="numpy")
def _block(limit, granule, whole):
    """Largest multiple of ``granule`` <= limit, at least one granule, at most ``whole``."""
    b = np.floor(limit / granule) * granule
    b = max(b, granule)
    b = min(b, whole)
    return b


@njit(cache=True, inline="always", error_model="numpy")
def _stream_time(whole, blk, floor):
    """Cycles to stream ``whole`` items through a fold in blocks of ``blk`` (the last block holds what is
    left, not a whole block), each block taking at least ``floor`` cycles (the next stationary tile's load)."""
    nblk = np.ceil(whole / blk)
    last = whole - (nblk - 1.0) * blk
    return (nblk - 1.0) * max(blk, floor) + max(last, floor)


@njit(cache=True, inline="always", error_model="numpy")
def _refetch(total, resident, passes):
    """Bytes of an operand of ``total`` bytes used ``passes`` times with ``resident`` bytes kept on chip."""
    miss = total - resident
    miss = max(miss, 0.0)
    return total + (passes - 1.0) * miss


@njit(cache=True, error_model="numpy", fastmath={"nnan", "ninf", "nsz", "contract"})
def _kernel(M_, N_, K_, I_, shape_of, rep, chain_in, chain_out, d, physical, ints, floats, order):
    n = d.shape[1]
    Lu = M_.shape[0]
    L = shape_of.shape[0]
    res_i = np.empty((Lu, 8))
    res_f = np.empty((Lu, 6))
    res_o = np.empty(Lu, dtype=np.int8)
    res_x = np.empty((Lu, 6))
    for i in range(n):
        R = d[0, i]
        C = d[1, i]
        df = int(d[2, i])
        cap_i = d[3, i]
        cap_w = d[4, i]
        cap_p = d[5, i]
        a_b = d[6, i]
        w_b = d[7, i]
        inv_bpc = d[8, i]
        e_mac = d[9, i]
        e_if = d[10, i]
        e_f = d[11, i]
        e_of = d[12, i]
        e_fill_i = d[13, i]
        e_fill_w = d[14, i]
        e_fill_o = d[15, i]
        e_dram = d[16, i]
        static_pj = d[17, i]
        static_ref = d[18, i]
        inv_bpc_ref = d[19, i]
        e_psum = d[20, i]
        for u in range(Lu):
            M = M_[u]
            N = N_[u]
            K = K_[u]
            if df == WS:
                Sr, Sc, T = K, N, M
                extra = 2.0 * R + C - 2.0
            elif df == OS:
                Sr, Sc, T = M, N, K
                extra = R + C - 2.0
            else:
                Sr, Sc, T = K, M, N
                extra = 2.0 * R + C - 2.0
            fr = _ceil_div(Sr, R)
            fc = _ceil_div(Sc, C)
            folds = fr * fc
            compute = folds * (T + extra) - 1.0
            macs = M * N * K
            if df == WS:
                if_reads = M * K * fc
                f_reads = K * N
                of_writes = M * N * fr
            elif df == OS:
                if_reads = M * K * fc
                f_reads = K * N * fr
                of_writes = M * N + folds * (R + C)
            else:
                if_reads = M * K
                f_reads = K * N * fc
                of_writes = M * N * fr
            tile_m = M
            tile_n = N
            best_run = compute
            psum_words = 0.0
            first = 0.0
            I_b = 0.0
            O_b = 0.0
            best_order = 1 if df == WS else 0  # SCALE-Sim's order: ws streams all of M per column fold
            if not physical:
                cycles = compute
                dram = 0.0
                e_dram_part = 0.0
                fill_e = 0.0
            else:
                I_b = I_[u] * a_b
                W_b = K * N * w_b
                O_b = M * N * a_b
                best = np.inf
                dram = np.inf
                passes_unit = 1.0
                fill_e = 0.0
                cycles = 0.0
                best_run = 0.0
                psum_words = 0.0
                if df == WS:  # the first stationary tile must arrive before compute starts
                    first = min(K, R) * min(N, C) * w_b
                elif df == IS:
                    first = min(K, R) * min(M, C) * a_b
                else:
                    first = 0.0
                for cand in range(5):
                    c_psum_words = 0.0  # extra partial-sum words moved between ofmap SRAM and array (os)
                    c_tblk = T
                    if df == WS or df == IS:
                        if cand >= 4:
                            continue
                        # the blocked operand (ws: input rows, is: weight columns)
                        if df == WS:
                            whole, other_b, blk_b, p_unit, cap_blk, cap_other = M, W_b, I_b, fc, cap_i, cap_w
                        else:
                            whole, other_b, blk_b, p_unit, cap_blk, cap_other = N, I_b, W_b, fc, cap_w, cap_i
                        if cand == 3:
                            # reduction split (the order ZigZag's LOMA search finds on small buffers): output
                            # pixels in blocks of mb whose partial sums for all N filters wait in the ofmap
                            # buffer; per block, the reduction K in chunks of kc rows (whole row folds) whose
                            # slice of the operand reused across the chunk's column folds (ws: the block's
                            # inputs, is: the weights) fits its buffer; per chunk, every column fold. Each
                            # input is fetched once; the weights once per pixel block unless they all stay.
                            # Partial sums parked for the whole layer (one block) may fill the whole buffer:
                            # they are made on chip, so no half waits for a prefetch or a drain (ZigZag's
                            # force_double_buffering sizes a tile that holds everything the same way); blocks
                            # that follow one another get half, the other half draining the finished block
                            # (TPU v1 doubles its accumulators for this, Jouppi et al. ISCA 2017 sec. 2).
                            # ws pixel blocks are any rows, is blocks whole column folds.
                            if M * N <= 2.0 * cap_p:
                                mb = M
                                cap_ps = 2.0 * cap_p
                            else:
                                mb = _block(cap_p / N, 1.0 if df == WS else min(M, C), M)
                                cap_ps = cap_p
                            nb = _ceil_div(M, mb)
                            if df == WS:
                                kc = _block(cap_i * M / (I_b * mb) * K, R, K)
                                slice_b = I_b * (mb / M) * (kc / K)
                                reuse, cap_s = fc, cap_i  # the input slice serves every column fold
                            else:
                                kc = _block(cap_w / (N * w_b), R, K)
                                slice_b = kc * N * w_b
                                reuse, cap_s = _ceil_div(mb, C), cap_w  # the weight slice: the block's column folds
                            nk = _ceil_div(K, kc)
                            # a slice that does not fit (one row fold already too big) streams again per reuse
                            over_s = (reuse - 1.0) * nb * nk * max(slice_b - cap_s, 0.0)
                            if df == WS:
                                i_dram = I_b + over_s
                                w_dram = _refetch(W_b, cap_w, nb)
                            else:
                                i_dram = I_b
                                w_dram = _refetch(W_b, cap_w, nb) + over_s
                            spill = nb * max(mb * N - cap_ps, 0.0) * (nk - 1.0) * 2.0 * PSUM_BYTES
                            o_dram = O_b + spill
                            traffic = i_dram + w_dram + o_dram
                            # ws: the weights are loaded into the array once per pixel block
                            sram_extra = (nb - 1.0) * K * N * e_f if df == WS else 0.0
                            c_tm = mb
                            c_tn = min(N, C) if df == WS else N
                            c_order = 0 if nb > 1.0 else (1 if df == WS else 0)
                            c_passes = nb if df == WS else 1.0
                            c_stream = _stream_time(M, mb, R) if df == WS else max(N, R)
                        else:
                            if cand == 0:
                                blk = whole
                            elif cand == 1:
                                blk = _block(cap_p / C, 1.0, whole)
                            else:
                                blk = _block(cap_blk * whole / blk_b, 1.0, whole)
                            nblk = _ceil_div(whole, blk)
                            part = blk_b * blk / whole
                            blk_dram = blk_b + (p_unit - 1.0) * nblk * max(part - cap_blk, 0.0)
                            other_dram = _refetch(other_b, cap_other, nblk)
                            spill = 0.0
                            if fr > 1.0:
                                over = min(blk, whole) * min(Sc, C) - cap_p
                                if over > 0.0:
                                    spill = (fr - 1.0) * fc * nblk * over * 2.0 * PSUM_BYTES
                            traffic = blk_dram + other_dram + spill + O_b
                            # the stationary tile is reloaded once per block: more weight (is: input) loads
                            reload = (nblk - 1.0) * (K * N if df == WS else M * K)
                            sram_extra = reload * (e_f if df == WS else e_if)
                            if df == WS:
                                i_dram, w_dram = blk_dram, other_dram
                            else:
                                i_dram, w_dram = other_dram, blk_dram
                            o_dram = O_b + spill
                            c_tm = blk if df == WS else min(M, C)
                            c_tn = min(N, C) if df == WS else blk
                            c_order = 0 if ((df == WS) != (blk == whole)) else 1
                            c_passes = nblk
                            c_stream = _stream_time(whole, blk, R)
                    else:  # os: partial sums stay in the PEs
                        if cand == 0:  # SCALE-Sim: per R rows, every column fold; weights per row fold
                            i_dram = I_b + (fc - 1.0) * fr * max(I_b / fr - cap_i, 0.0)
                            w_dram = _refetch(W_b, cap_w, fr)
                            c_tm, c_tn, c_order = min(M, R), N, 0
                        elif cand == 1:  # per C columns, every row fold
                            w_dram = W_b + (fr - 1.0) * fc * max(W_b / fc - cap_w, 0.0)
                            i_dram = _refetch(I_b, cap_i, fc)
                            c_tm, c_tn, c_order = M, min(N, C), 1
                        elif cand == 2:  # input rows kept while all weights stream past
                            blk = _block(cap_i * M / I_b, R, M)
                            nblk = _ceil_div(M, blk)
                            i_dram = I_b + (fc - 1.0) * nblk * max(I_b * blk / M - cap_i, 0.0)
                            w_dram = _refetch(W_b, cap_w, nblk) + (_ceil_div(blk, R) - 1.0) * nblk * fc * max(
                                K * min(N, C) * w_b - cap_w, 0.0) * (1.0 if W_b > cap_w else 0.0)
                            c_tm, c_tn, c_order = blk, N, 0
                        elif cand == 4:  # reduction split into chunks whose weight slice fits; the
                            # partial sums of a column fold wait in the ofmap buffer between chunks
                            ncols = min(N, C)
                            kc = min(K, max(1.0, np.floor(cap_w / (ncols * w_b))))
                            nk = _ceil_div(K, kc)
                            if nk <= 1.0:
                                continue
                            w_dram = W_b
                            i_dram = _refetch(I_b, cap_i, fc)
                            spill_os = max(M * ncols - cap_p, 0.0) * fc * (nk - 1.0) * 2.0 * PSUM_BYTES
                            w_dram += spill_os  # counted with the traffic below
                            c_psum_words = 2.0 * (nk - 1.0) * M * N
                            c_tm, c_tn, c_order = M, ncols, 1
                            c_tblk = kc
                        else:  # weight columns kept while all inputs stream past
                            blk = _block(cap_w / (K * w_b), C, N)
                            nblk = _ceil_div(N, blk)
                            w_dram = W_b + (fr - 1.0) * nblk * max(W_b * blk / N - cap_w, 0.0)
                            i_dram = _refetch(I_b, cap_i, nblk) + (_ceil_div(blk, C) - 1.0) * nblk * fr * max(
                                I_b / fr - cap_i, 0.0) * (1.0 if I_b > cap_i else 0.0)
                            c_tm, c_tn, c_order = M, blk, 1
                        o_dram = O_b
                        traffic = i_dram + w_dram + o_dram
                        sram_extra = c_psum_words * e_psum
                        c_passes = 1.0 if cand != 4 else nk
                        c_stream = _stream_time(T, c_tblk, R)
                    # pipelined folds: the next stationary tile shifts in while the current one computes;
                    # c_stream is what each fold streams over all passes, block by block
                    run = folds * c_stream + extra
                    c_cycles = np.ceil(max(run, traffic * inv_bpc) + first * inv_bpc)
                    c_fill = i_dram * e_fill_i + w_dram * e_fill_w + o_dram * e_fill_o
                    # the energy the mapping changes, with leakage priced at the node's nominal clock so
                    # that the choice does not depend on the clock: a faster clock never switches a layer
                    # to a slower mapping
                    score = (traffic * e_dram + c_fill + sram_extra
                             + max(run, traffic * inv_bpc_ref) * static_ref)
                    if score < best or (score == best and traffic < dram):
                        best = score
                        dram = traffic
                        tile_m, tile_n, best_order = c_tm, c_tn, c_order
                        passes_unit = c_passes
                        psum_words = c_psum_words
                        fill_e = c_fill
                        cycles = c_cycles
                        best_run = run
                if df == WS:
                    f_reads = K * N * passes_unit
                elif df == IS:
                    if_reads = M * K * passes_unit
                else:
                    of_writes += psum_words
                e_dram_part = dram * e_dram
            e_mac_part = macs * e_mac
            # ofmap: os writes finished outputs; ws/is read-modify-write partial sums (first write only writes)
            if df == OS:  # finished outputs, plus any 32-bit partial sums parked between reduction chunks
                of_acc = (of_writes - psum_words) * e_of + psum_words * e_psum
            else:
                of_acc = (2.0 * of_writes - M * N) * e_of
            e_sram_part = if_reads * e_if + f_reads * e_f + of_acc + fill_e
            e_static_part = cycles * static_pj
            res_i[u, 0] = compute
            res_i[u, 1] = if_reads
            res_i[u, 2] = f_reads
            res_i[u, 3] = of_writes
            res_i[u, 4] = cycles
            res_i[u, 5] = np.ceil(dram)
            res_i[u, 6] = tile_m
            res_i[u, 7] = tile_n
            res_f[u, 0] = e_mac_part + e_sram_part + e_dram_part + e_static_part
            res_f[u, 1] = e_mac_part
            res_f[u, 2] = e_sram_part
            res_f[u, 3] = e_dram_part
            res_f[u, 4] = e_static_part
            res_f[u, 5] = macs / (cycles * R * C)
            res_x[u, 0] = best_run
            res_x[u, 1] = first
            res_x[u, 2] = dram
            res_x[u, 3] = I_b
            res_x[u, 4] = O_b
            res_x[u, 5] = macs
            res_o[u] = best_order
        for layer in range(L):
            u = shape_of[layer]
            r = rep[layer]
            cyc = res_i[u, 4]
            dram = res_x[u, 2]
            e_d = res_f[u, 3]
            e_s = res_f[u, 4]
            util = res_f[u, 5]
            if physical and (chain_in[layer] or chain_out[layer]):
                # activations that fit half the ifmap buffer stay on chip between consecutive layers
                saved = 0.0
                if chain_in[layer] and res_x[u, 3] <= cap_i:
                    saved += res_x[u, 3]
                if chain_out[layer] and res_x[u, 4] <= cap_i:
                    saved += res_x[u, 4]
                if saved > 0.0:
                    dram = dram - saved
                    cyc = np.ceil(max(res_x[u, 0], dram * inv_bpc) + res_x[u, 1] * inv_bpc)
                    e_d = dram * e_dram
                    e_s = cyc * static_pj
                    util = res_x[u, 5] / (cyc * R * C)
            ints[0, i, layer] = np.int64(res_i[u, 0] * r)
            ints[1, i, layer] = np.int64(res_i[u, 1] * r)
            ints[2, i, layer] = np.int64(res_i[u, 2] * r)
            ints[3, i, layer] = np.int64(res_i[u, 3] * r)
            ints[4, i, layer] = np.int64(cyc * r)
            ints[5, i, layer] = np.int64(np.ceil(dram) * r)
            ints[6, i, layer] = np.int64(res_i[u, 6])
            ints[7, i, layer] = np.int64(res_i[u, 7])
            floats[0, i, layer] = np.float32((res_f[u, 1] + res_f[u, 2] + e_d + e_s) * r)
            floats[1, i, layer] = np.float32(res_f[u, 1] * r)
            floats[2, i, layer] = np.float32(res_f[u, 2] * r)
            floats[3, i, layer] = np.float32(e_d * r)
            floats[4, i, layer] = np.float32(e_s * r)
            floats[5, i, layer] = np.float32(util)
            order[i, layer] = res_o[u]


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
