package io.jtensor.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Forward convolution with stride 1 and no dilation by "wide" columns: the image is copied once into a padded
 * buffer [cg, Hp, Wp], and the output is computed at every column of the padded width, positions (y, x) with x in
 * [0, Wp) instead of [0, ow). Then column row (ci, i, j) is the contiguous run of oh * Wp elements starting at
 * ci*Hp*Wp + i*Wp + j of that buffer: one long copy per row instead of oh short ones (LeNet's second layer: 150
 * copies of 96 floats per image instead of 1,200 of 8). The extra Wp - ow columns of each output row read taps that
 * wrap into the next row; they cost (Wp - ow) / ow more multiply-adds and are dropped when the valid columns are
 * copied out. Only the forward pass uses it: the garbage columns are discarded there and never multiplied into a
 * result that is kept.
 */
final class CpuConvWide {
    private CpuConvWide() {}

    /** Whether the wide form applies: unit stride and dilation, a real kernel, unit-stride image rows. */
    static boolean applies(CpuConvGeometry g, CpuConvTensor x) {
        var p = g.p();
        return p.strideH() == 1 && p.strideW() == 1 && p.dilationH() == 1 && p.dilationW() == 1 && !g.pointwise()
                && x.stride(3) == 1;
    }

    /**
     * out[og, oh, ow] at element cOff of outSeg = W x unfold(image): the group of channels starting at element xBase
     * of x, channel and row strides sC and sH; a is the group's weights [og, ckk].
     */
    static void forward(CpuConvGeometry g, MemorySegment x, long xBase, long sC, long sH, int es, boolean f64,
                        CpuGemmMatrix a, MemorySegment outSeg, long cOff, boolean parallelGemm) {
        var p = g.p();
        int cg = g.cg(), kh = g.kh(), kw = g.kw(), oh = g.oh(), ow = g.ow(), og = g.og();
        int hp = g.h() + 2 * p.padH(), wp = g.w() + 2 * p.padW(), plane = hp * wp, len = oh * wp;
        long imageElems = (long) cg * plane + kw; // the last rows' garbage columns read up to kw - 2 past the planes
        MemorySegment img = CpuConvTemps.scratch(CpuConvTemps.IMAGE, imageElems * es);
        boolean padded = p.padH() > 0 || p.padW() > 0;
        if (padded) img.asSlice(0, imageElems * es).fill((byte) 0);
        int rowBytes = g.w() * es;
        for (int ci = 0; ci < cg; ci++) {
            for (int ih = 0; ih < g.h(); ih++) {
                long to = ((long) ci * plane + (long) (ih + p.padH()) * wp + p.padW()) * es;
                // Padded rows must not spill into their zero borders; unpadded rows are written in address order.
                CpuConvIm2col.copy(x, (xBase + ci * sC + ih * sH) * es, img, to, rowBytes, padded ? to + rowBytes : img.byteSize());
            }
        }
        if (!padded) CpuConvIm2col.zero(img, (long) cg * plane, kw, es);

        int ckk = g.ckk();
        MemorySegment col = CpuConvTemps.scratch(CpuConvTemps.COLUMNS, (long) ckk * len * es);
        int runBytes = len * es;
        long row = 0;
        for (int ci = 0; ci < cg; ci++) {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++, row++) {
                    CpuConvIm2col.copy(img, ((long) ci * plane + (long) i * wp + j) * es, col, row * runBytes, runBytes, col.byteSize());
                }
            }
        }
        MemorySegment wide = CpuConvTemps.scratch(CpuConvTemps.WIDE_OUT, (long) og * len * es);
        CpuGemm.gemm(f64, 1, og, len, ckk, a, 0, new CpuGemmMatrix(col, 0, len, 1, a.dtype()), 0, wide, 0, len, 0, false, parallelGemm);
        long end = (cOff + (long) og * oh * ow) * es; // spills stay inside this image's output, written in order
        int outRowBytes = ow * es;
        for (int o = 0; o < og; o++) {
            for (int y = 0; y < oh; y++) {
                long to = (cOff + ((long) o * oh + y) * ow) * es;
                CpuConvIm2col.copy(wide, ((long) o * len + (long) y * wp) * es, outSeg, to, outRowBytes, end);
            }
        }
    }
}
