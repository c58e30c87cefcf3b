"""The workload zoo: exact layer shapes of common CNNs and transformers, batch 1.

Convolutions list the input as SCALE-Sim expects it, already padded; the padded input is cropped to the
rows the filter reaches, h = (out - 1) * stride + fh, so that SCALE-Sim's output size
ceil((h - fh + s) / s) equals PyTorch's floor((in + 2p - fh) / s) + 1 (PyTorch never reads the
cropped row either). Pooling, normalisation, activations, softmax and residual adds are not layers
here: the array runs only convolutions and matrix products.

Depthwise convolutions (MobileNetV2) are modelled as SCALE-Sim does with its ``DP`` layers: one
single-channel, single-filter convolution per channel, i.e. ``Conv(h, w, 3, 3, c=1, k=1, s,
repeat=channels)``. Transformer blocks are listed once with ``repeat`` = number of blocks (times heads
for the per-head attention products): identical layers give identical results, so this is exact.

>>> sum(layer.macs * layer.repeat for layer in WORKLOADS["resnet18"]) / 1e9
1.814073344
>>> len(WORKLOADS["resnet50"]), len(WORKLOADS["vgg16"])
(54, 16)
"""
from __future__ import annotations

from .layers import Conv, Gemm


def _conv(name: str, size: int, cin: int, cout: int, f: int, s: int, p: int, repeat: int = 1):
    """A square conv on a ``size`` input with padding ``p``; returns (layer, output size)."""
    out = (size + 2 * p - f) // s + 1
    h = (out - 1) * s + f  # padded input, cropped to what the filter reads (see module docstring)
    return Conv(h, h, f, f, cin, cout, s, name=name, repeat=repeat), out


def resnet(depth: int) -> tuple:
    """torchvision ResNet-18 / ResNet-50 (v1.5: stride on the 3x3 conv) on a 224x224 image."""
    blocks = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}[depth]
    layers = []
    conv, size = _conv("conv1", 224, 3, 64, 7, 2, 3)
    layers.append(conv)
    size = (size + 2 - 3) // 2 + 1  # 3x3 stride-2 max pool
    cin = 64
    for stage, (n, width) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for b in range(n):
            st = 2 if (b == 0 and stage > 1) else 1
            tag = f"layer{stage}.{b}"
            if depth == 18:
                c1, out = _conv(f"{tag}.conv1", size, cin, width, 3, st, 1)
                c2, _ = _conv(f"{tag}.conv2", out, width, width, 3, 1, 1)
                new = [c1, c2]
                cout = width
            else:
                c1, _ = _conv(f"{tag}.conv1", size, cin, width, 1, 1, 0)
                c2, out = _conv(f"{tag}.conv2", size, width, width, 3, st, 1)
                c3, _ = _conv(f"{tag}.conv3", out, width, 4 * width, 1, 1, 0)
                new = [c1, c2, c3]
                cout = 4 * width
            if b == 0 and (st != 1 or cin != cout):
                new.append(_conv(f"{tag}.downsample", size, cin, cout, 1, st, 0)[0])
            layers += new
            cin, size = cout, out
    layers.append(Gemm(1, 1000, cin, name="fc"))
    return tuple(layers)


def mobilenetv2() -> tuple:
    """torchvision MobileNetV2 (width 1.0) on a 224x224 image; depthwise convs as SCALE-Sim ``DP``."""
    settings = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1))  # (expansion t, channels c, blocks n, stride s)
    conv, size = _conv("features.0", 224, 3, 32, 3, 2, 1)
    layers, cin, idx = [conv], 32, 1
    for t, c, n, s in settings:
        for i in range(n):
            hidden = cin * t
            tag = f"features.{idx}"
            if t != 1:
                layers.append(_conv(f"{tag}.expand", size, cin, hidden, 1, 1, 0)[0])
            dw, out = _conv(f"{tag}.dw", size, 1, 1, 3, s if i == 0 else 1, 1, repeat=hidden)
            layers.append(dw)
            layers.append(_conv(f"{tag}.project", out, hidden, c, 1, 1, 0)[0])
            cin, size, idx = c, out, idx + 1
    layers.append(_conv("features.18", size, cin, 1280, 1, 1, 0)[0])
    layers.append(Gemm(1, 1000, 1280, name="classifier"))
    return tuple(layers)


def vgg16() -> tuple:
    """VGG-16 (configuration D) on a 224x224 image: 13 3x3 convs and 3 fully connected layers."""
    cfg = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
    layers, size, cin, i = [], 224, 3, 1
    for v in cfg:
        if v == "M":
            size //= 2
            continue
        conv, size = _conv(f"conv{i}", size, cin, v, 3, 1, 1)
        layers.append(conv)
        cin, i = v, i + 1
    layers += [Gemm(1, 4096, 512 * 7 * 7, name="fc6"), Gemm(1, 4096, 4096, name="fc7"),
               Gemm(1, 1000, 4096, name="fc8")]
    return tuple(layers)


def _encoder(tokens: int, d: int, heads: int, ffn: int, blocks: int, context: int | None = None,
             fused_qkv: bool = False, gated_ffn: bool = False) -> list:
    """The matrix products of ``blocks`` identical transformer blocks over ``tokens`` query tokens that
    attend to ``context`` keys (default: the same tokens)."""
    ctx = tokens if context is None else context
    hd = d // heads
    if fused_qkv:
        proj = [Gemm(tokens, 3 * d, d, name="attn.qkv", repeat=blocks)]
    else:
        proj = [Gemm(tokens, d, d, name=f"attn.{x}", repeat=blocks) for x in ("q", "k", "v")]
    attn = [Gemm(tokens, ctx, hd, name="attn.scores", repeat=blocks * heads),   # Q K^T per head
            Gemm(tokens, hd, ctx, name="attn.context", repeat=blocks * heads),  # softmax(.) V per head
            Gemm(tokens, d, d, name="attn.out", repeat=blocks)]
    if gated_ffn:  # SwiGLU: gate and up projections, then down
        mlp = [Gemm(tokens, ffn, d, name="mlp.gate", repeat=blocks), Gemm(tokens, ffn, d, name="mlp.up", repeat=blocks),
               Gemm(tokens, d, ffn, name="mlp.down", repeat=blocks)]
    else:
        mlp = [Gemm(tokens, ffn, d, name="mlp.fc1", repeat=blocks), Gemm(tokens, d, ffn, name="mlp.fc2", repeat=blocks)]
    return proj + attn + mlp


def vit_b16() -> tuple:
    """ViT-B/16 (timm layout, fused qkv) on a 224x224 image: 196 patches + class token = 197 tokens."""
    patch = Conv(224, 224, 16, 16, 3, 768, 16, name="patch_embed")
    return tuple([patch] + _encoder(197, 768, 12, 3072, 12, fused_qkv=True) + [Gemm(1, 1000, 768, name="head")])


def bert_base(seq: int = 128) -> tuple:
    """BERT-base encoder (Hugging Face layout: separate q, k, v) at sequence length 128, plus pooler."""
    return tuple(_encoder(seq, 768, 12, 3072, 12) + [Gemm(1, 768, 768, name="pooler")])


def gpt2(seq: int = 512, decode: bool = False) -> tuple:
    """GPT-2 124M (fused c_attn). Prefill: ``seq`` tokens at once. Decode: one new token (M=1) that
    attends to ``seq`` cached tokens plus itself. The LM head runs on the last position only, which
    is all generation needs."""
    tokens, ctx = (1, seq + 1) if decode else (seq, seq)
    return tuple(_encoder(tokens, 768, 12, 3072, 12, context=ctx, fused_qkv=True)
                 + [Gemm(1, 50257, 768, name="lm_head")])


def llama7b(seq: int = 512, decode: bool = False) -> tuple:
    """LLaMA-7B (32 blocks, d=4096, 32 heads, SwiGLU 11008, vocab 32000); prefill / decode as GPT-2."""
    tokens, ctx = (1, seq + 1) if decode else (seq, seq)
    return tuple(_encoder(tokens, 4096, 32, 11008, 32, context=ctx, gated_ffn=True)
                 + [Gemm(1, 32000, 4096, name="lm_head")])


WORKLOADS: dict[str, tuple] = {
    "resnet18": resnet(18),
    "resnet50": resnet(50),
    "mobilenetv2": mobilenetv2(),
    "vgg16": vgg16(),
    "vit_b16": vit_b16(),
    "bert_base": bert_base(128),
    "gpt2_prefill": gpt2(512),
    "gpt2_decode": gpt2(512, decode=True),
    "llama7b_prefill": llama7b(512),
    "llama7b_decode": llama7b(512, decode=True),
}

DESCRIPTIONS: dict[str, str] = {
    "resnet18": "ResNet-18, 224x224, batch 1 (21 layers, 1.81 GMAC)",
    "resnet50": "ResNet-50 v1.5, 224x224, batch 1 (54 layers)",
    "mobilenetv2": "MobileNetV2 1.0, 224x224, batch 1; depthwise convs per channel as in SCALE-Sim",
    "vgg16": "VGG-16, 224x224, batch 1 (13 convs + 3 FC)",
    "vit_b16": "ViT-B/16, 224x224, 197 tokens",
    "bert_base": "BERT-base encoder, sequence 128",
    "gpt2_prefill": "GPT-2 124M prefill of 512 tokens",
    "gpt2_decode": "GPT-2 124M, one decode step (M=1) after 512 cached tokens",
    "llama7b_prefill": "LLaMA-7B prefill of 512 tokens",
    "llama7b_decode": "LLaMA-7B, one decode step (M=1) after 512 cached tokens",
}
