"""Kokoro in torch: the kokoro package's model with the project's int8 ONNX
weights dequantised (no weights of its own), without random phases or noise,
on the torch device; its text side and speech, for fitting a voice's style."""

from __future__ import annotations

import collections
import json
import re
import sys
import types
from pathlib import Path

import numpy as np

from voiceclone.errors import ModelError
from voiceclone.runtime.device import torch_device
from voiceclone.runtime.lazy import loaded_once

GAIN = 1.5
"""The ONNX export's inverse STFT is 1.5 times louder than ``torch.istft``."""
STYLE = 128
"""Values per half of the style vector (the decoder's half first)."""


KOKORO_RATE = 24_000


FRAME_SAMPLES = 600
"""Samples at 24 kHz per text-aligned frame (40 per second); F0 runs at twice that."""


STATE_FILE = "torch-state.pt"


CONFIG = {
    "istftnet": {
        "upsample_kernel_sizes": [20, 12],
        "upsample_rates": [10, 6],
        "gen_istft_hop_size": 5,
        "gen_istft_n_fft": 20,
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "resblock_kernel_sizes": [3, 7, 11],
        "upsample_initial_channel": 512,
    },
    "dim_in": 64,
    "dropout": 0.2,
    "hidden_dim": 512,
    "max_conv_dim": 512,
    "max_dur": 50,
    "multispeaker": True,
    "n_layer": 3,
    "n_mels": 80,
    "n_token": 178,
    "style_dim": STYLE,
    "text_encoder_kernel_size": 5,
    "plbert": {
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 2048,
        "max_position_embeddings": 512,
        "num_hidden_layers": 12,
        "dropout": 0.1,
    },
}
"""Kokoro-82M's published hyper-parameters (every ONNX weight's shape agrees)."""


def torch_kokoro():
    """Kokoro's torch ``KModel`` with the project's ONNX weights on the torch
    device: eval mode, parameters frozen, no random phases or noise (shared;
    built once per device, about 15 s the first time, 5 s from the cached
    state)."""
    return _torch_kokoro_on(torch_device())


@loaded_once
def _torch_kokoro_on(device: str):
    import torch

    from voiceclone.engines.kokoro import data_file

    kmodel, istftnet = _import_kokoro()
    istftnet.torch = _NoiseFree(torch)
    state = prepare_weights()
    empty = state.parent / "empty-state.pth"
    if not empty.is_file():
        torch.save({}, empty)
    vocab = json.loads(data_file("vocab.json").read_text("utf-8"))["vocab"]
    model = kmodel(
        repo_id="hexgrad/Kokoro-82M", config={**CONFIG, "vocab": vocab}, model=str(empty)
    )
    for module in model.modules():
        if hasattr(module, "weight_g"):
            # The export folded g * v / |v| into one tensor; some of its rows are
            # all zero after quantisation, which weight_norm would make 0 / 0.
            torch.nn.utils.remove_weight_norm(module)
    result = model.load_state_dict(torch.load(state), strict=False)
    # Not in the export, and harmless: the instance norms' unit affine and BERT's pooler.
    missing = [k for k in result.missing_keys if not re.search(r"norm\.(weight|bias)$|pooler", k)]
    if missing or result.unexpected_keys:
        odd = missing[:3] + result.unexpected_keys[:3]
        raise ModelError(f"the Kokoro weights do not fit the torch model: {odd}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model.to(device)


def _import_kokoro():
    """``KModel`` and ``kokoro.istftnet`` without the package's G2P (misaki),
    which its ``__init__`` would import."""
    import importlib.util

    spec = importlib.util.find_spec("kokoro")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the kokoro package is not installed (pip install -r requirements.txt)")
    if "kokoro" not in sys.modules:
        stub = types.ModuleType("kokoro")
        stub.__path__ = list(spec.submodule_search_locations)
        sys.modules["kokoro"] = stub
    try:
        from kokoro import istftnet
        from kokoro.model import KModel
    except ImportError as exc:
        raise ModelError(f"the torch Kokoro model cannot be imported: {exc}") from exc
    return KModel, istftnet


class _NoiseFree:
    """``torch`` as seen by kokoro.istftnet, with random phases and noise at zero."""

    def __init__(self, torch):
        self._torch = torch

    def __getattr__(self, name):
        return getattr(self._torch, name)

    def rand(self, *shape, **kwargs):
        kwargs.pop("generator", None)
        return self._torch.zeros(*shape, **kwargs)

    def randn_like(self, x, **kwargs):
        return self._torch.zeros_like(x)


def prepare_weights() -> Path:
    """The dequantised float32 state, written once beside the ONNX file and
    rebuilt when the ONNX file's SHA-256 changes."""
    import torch

    from voiceclone.engines.kokoro import assembled_model
    from voiceclone.runtime.assemble import built_once, read_stamp

    onnx_path = assembled_model()
    stamp = read_stamp(onnx_path) or "unknown"
    return built_once(
        onnx_path.parent / STATE_FILE,
        stamp,
        lambda tmp: torch.save(_dequantised_state(onnx_path), tmp),
    )


def _dequantised_state(path: Path) -> dict:
    """KModel's float32 state from the int8 ONNX file: the zero point is read
    from the node that consumes the weight (identical zero points are shared
    across layers), linear weights are transposed, LSTM gates reordered (ONNX
    i,o,f,c to torch i,f,g,o), weight-norm products loaded as plain weights."""
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    users = collections.defaultdict(list)
    for node in graph.node:
        for x in node.input:
            users[x].append(node)
    state, used = {}, set()
    kinds = ("MatMulInteger", "ConvInteger", "Gather")
    for name, q in inits.items():
        if not name.endswith("_quantized") or name.startswith("onnx::LSTM"):
            continue
        stem = name[: -len("_quantized")]
        node = next(n for n in users[name] if n.op_type in kinds)
        if node.op_type == "Gather":
            dequant = next(n for n in users[node.output[0]] if n.op_type == "DequantizeLinear")
            zero_name = dequant.input[2]
        else:
            zero_name = node.input[3] if len(node.input) > 3 else ""
        zero = np.asarray(inits[zero_name], np.float32) if zero_name else np.float32(0)
        weight = (q.astype(np.float32) - zero) * np.asarray(inits[stem + "_scale"], np.float32)
        if node.op_type == "MatMulInteger":
            weight = weight.T
        key = _param_name(stem) if stem.endswith(".weight") else _module(node.name) + ".weight"
        state[key] = weight
        used |= {name, stem + "_scale", zero_name}
    for node in graph.node:
        if node.op_type == "DynamicQuantizeLSTM":
            _lstm_state(node, inits, state)
        elif node.op_type in ("Conv", "ConvTranspose", "MatMul") and node.input[1:2]:
            w = inits.get(node.input[1])
            if w is not None and "istft" not in node.name:
                w = w.T if node.op_type == "MatMul" else w
                state[_module(node.name) + ".weight"] = w.astype(np.float32)
                used.add(node.input[1])
    for name, w in inits.items():
        if name in used or w.dtype != np.float32 or "istft" in name:
            continue
        if re.match(r"^(encoder|decoder)\.", name):
            state[_param_name(name)] = w
    return {k: torch.from_numpy(np.array(v, copy=True)) for k, v in state.items()}


def _lstm_state(node, inits: dict, state: dict) -> None:
    module = _module(node.name)
    w, r, b = (inits[node.input[k]] for k in (1, 2, 3))
    w_scale, w_zero, r_scale, r_zero = (inits[node.input[k]] for k in (8, 9, 10, 11))
    hidden = r.shape[1]
    order = np.concatenate([np.arange(hidden) + hidden * k for k in (0, 2, 3, 1)])
    for d, suffix in enumerate(("", "_reverse")):
        wf = (w[d].astype(np.float32) - w_zero[d]) * w_scale[d]
        rf = (r[d].astype(np.float32) - r_zero[d]) * r_scale[d]
        state[f"{module}.weight_ih_l0{suffix}"] = wf.T[order]
        state[f"{module}.weight_hh_l0{suffix}"] = rf.T[order]
        state[f"{module}.bias_ih_l0{suffix}"] = b[d, : 4 * hidden][order].astype(np.float32)
        state[f"{module}.bias_hh_l0{suffix}"] = b[d, 4 * hidden :][order].astype(np.float32)


def _param_name(name: str) -> str:
    return re.sub(r"^encoder\.", "", re.sub(r"^decoder\.decoder\.", "decoder.", name))


def _module(node_name: str) -> str:
    """KModel's module path for an exported node (``/decoder/decoder/decode.0/conv1/Conv``)."""
    parts = [re.sub(r"_\d+$", "", p) for p in node_name.strip("/").split("/")[:-1]]
    path = ".".join(parts)
    for pattern, repl in (
        (r"^encoder\.text_encoder\.cnn\.(\d)\.cnn\.\d\.0", r"text_encoder.cnn.\1.0"),
        (r"^decoder\.decoder\.asr_res\.asr_res\.0", "decoder.asr_res.0"),
        (r"^decoder\.decoder\.", "decoder."),
        (r"^encoder\.(F0|N|F0_proj|N_proj|shared)\b", r"predictor.\1"),
        (r"^encoder\.", ""),
    ):
        path = re.sub(pattern, repl, path)
    return path


def tokens_for(text: str) -> list[int]:
    """``text``'s Kokoro token ids (the ONNX engine's phonemiser and vocabulary)."""
    from voiceclone.engines.kokoro import MAX_PHONEMES, shared_model

    return shared_model().tokens(text)[:MAX_PHONEMES]


def text_encoding(model, tokens) -> dict:
    """The style-free part of Kokoro's text side for ``tokens`` (1, L): the
    ALBERT encoding the prosody predictor reads, the lengths and the mask."""
    import torch

    length = tokens.shape[-1]
    lengths = torch.full((1,), length, dtype=torch.long, device=tokens.device)
    mask = torch.zeros(1, length, dtype=torch.bool, device=tokens.device)
    bert = model.bert(tokens, attention_mask=(~mask).int())
    return {
        "bert": model.bert_encoder(bert).transpose(-1, -2),
        "lengths": lengths,
        "mask": mask,
    }


def text_side(model, tokens, style, durations=None, encoding: dict | None = None) -> dict:
    """Kokoro's text side for ``tokens`` (1, L): durations (as given, else
    predicted and rounded), F0 and noise energy (2 per frame) and the text
    features at the aligned frames. ``encoding`` (:func:`text_encoding` of
    the same tokens) saves the ALBERT pass when the style alone changes."""
    import torch

    enc = encoding or text_encoding(model, tokens)
    length, device = tokens.shape[-1], tokens.device
    prosody_style = style[:, STYLE:]
    d = model.predictor.text_encoder(enc["bert"], prosody_style, enc["lengths"], enc["mask"])
    if durations is None:
        x, _ = model.predictor.lstm(d)
        raw = torch.sigmoid(model.predictor.duration_proj(x)).sum(axis=-1)
        durations = torch.round(raw).clamp(min=1).long().squeeze(0)
    index = torch.repeat_interleave(torch.arange(length, device=device), durations)
    align = torch.zeros(length, len(index), device=device)
    align[index, torch.arange(len(index), device=device)] = 1
    f0, noise = model.predictor.F0Ntrain(d.transpose(-1, -2) @ align, prosody_style)
    asr = model.text_encoder(tokens, enc["lengths"], enc["mask"]) @ align
    return {"durations": durations, "asr": asr, "f0": f0, "noise": noise}


def speak(model, text: str, style_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``text`` from the torch copy with one 256-value style row: 24 kHz audio
    and the durations used (for comparisons with the ONNX model)."""
    import torch

    device = torch_device()
    tokens = torch.tensor([[0, *tokens_for(text), 0]], device=device)
    style = torch.from_numpy(np.array(style_row, np.float32).reshape(1, -1)).to(device)
    audio, parts = read_text_side(model, tokens, style)
    return audio.cpu().numpy(), parts["durations"].cpu().numpy()


def read_text_side(model, tokens, style) -> tuple[object, dict]:
    """The copy reading ``tokens`` with one style row, without gradient:
    24 kHz audio (a tensor) and its text side (:func:`text_side`)."""
    import torch

    with torch.no_grad():
        encoding = text_encoding(model, tokens)
        parts = text_side(model, tokens, style, encoding=encoding)
        audio = GAIN * model.decoder(parts["asr"], parts["f0"], parts["noise"], style[:, :STYLE])
    return audio.squeeze(), {**parts, "encoding": encoding}
