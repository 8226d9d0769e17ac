"""Rewrite a BERT-style ONNX graph for speed: fp32 weights, fused layers, one ``Attention`` node per layer.

ONNX Runtime's transformer optimizer folds the int8-stored weights of the packaged model
into fp32 and fuses layer norms and GELUs, but it does not recognise the attention of a
``torch.onnx.export(dynamo=True)`` graph (scaled dot-product attention written out as
MatMul, Softmax and a NaN guard). :func:`fuse_attention` finds each such block and puts
ONNX Runtime's ``com.microsoft.Attention`` in its place: masking, softmax and both
products in one kernel. Imports ``onnx`` and ``onnxruntime.transformers``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Ops that only move or scale a projection on its way into attention (walked through upwards).
_PASS_THROUGH = {"Transpose", "Reshape", "Mul", "Div"}


class FusionError(Exception):
    """The graph is not one this rewrite understands."""


def optimise(source: Path, target: Path, num_heads: int) -> None:
    """Write an optimised copy of the ONNX model ``source`` to ``target``; raise :class:`FusionError` if it cannot."""
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(str(source), model_type="bert", num_heads=num_heads, opt_level=1, use_gpu=False)
    statistics = model.get_fused_operator_statistics()
    if not (statistics.get("Attention") or statistics.get("MultiHeadAttention")):
        fuse_attention(model, num_heads)
    model.save_model_to_file(str(target))


def fuse_attention(model: Any, num_heads: int) -> int:
    """Replace each written-out attention block of ``model`` (an ``OnnxModel``) by one ``Attention`` node."""
    from onnx import TensorProto, helper, numpy_helper

    producers = model.output_name_to_node()
    consumers = model.input_name_to_nodes()
    mask = _attention_mask_input(model)
    mask_int32 = mask + "_int32"
    fused = 0
    for softmax in model.get_nodes_by_op_type("Softmax"):
        context = _context_matmul(softmax, consumers)
        scores = producers.get(softmax.input[0])
        if scores is not None and scores.op_type == "Add":  # scores + mask
            scores = next((producers.get(i) for i in scores.input if _op(producers.get(i)) == "MatMul"), None)
        if context is None or scores is None or scores.op_type != "MatMul":
            raise FusionError(f"unexpected attention around {softmax.name}")
        (x_q, w_q, b_q, s_q), (x_k, w_k, b_k, s_k) = (_projection(model, name, producers) for name in scores.input)
        x_v, w_v, b_v, s_v = _projection(model, context.input[1], producers)
        if not x_q == x_k == x_v or s_v != 1.0:
            raise FusionError(f"attention at {softmax.name} does not project one input")
        output = _merged_heads(context, consumers)
        prefix = f"FusedAttention_{fused}"
        weights = numpy_helper.from_array(np.concatenate([w_q, w_k, w_v], axis=1), prefix + "_qkv_weight")
        bias = numpy_helper.from_array(np.concatenate([b_q, b_k, b_v]), prefix + "_qkv_bias")
        model.add_initializer(weights)
        model.add_initializer(bias)
        node = helper.make_node(
            "Attention",
            [x_q, weights.name, bias.name, mask_int32],
            [output],
            name=prefix,
            domain="com.microsoft",
            num_heads=num_heads,
            scale=float(s_q * s_k),
        )
        model.add_node(node)
        fused += 1
    if not fused:
        raise FusionError("no attention block found")
    model.add_node(helper.make_node("Cast", [mask], [mask_int32], name="AttentionMaskToInt32", to=TensorProto.INT32))
    for node in list(model.model.graph.node):  # the written-out blocks now feed nothing
        if node.op_type == "Attention":
            model.remove_nodes(_unused_producers(model, node))
    model.prune_graph()
    model.topological_sort()
    return fused


def _op(node: Any) -> str | None:
    return node.op_type if node is not None else None


def _attention_mask_input(model: Any) -> str:
    names = [graph_input.name for graph_input in model.model.graph.input]
    if "attention_mask" not in names:
        raise FusionError("the model has no attention_mask input")
    return "attention_mask"


def _context_matmul(softmax: Any, consumers: dict[str, list[Any]]) -> Any:
    """Return the MatMul of the attention probabilities with V (through an optional NaN guard)."""
    node = softmax
    for _ in range(3):
        children = consumers.get(node.output[0], [])
        matmul = next((child for child in children if child.op_type == "MatMul"), None)
        if matmul is not None:
            return matmul
        where = next((child for child in children if child.op_type == "Where"), None)
        if where is None:
            return None
        node = where
    return None


def _projection(model: Any, name: str, producers: dict[str, Any]) -> tuple[str, np.ndarray, np.ndarray, float]:
    """Walk up from an attention operand to its ``MatMul(x, W) + b``: return x, W, b and the scale on the way."""
    from onnx import numpy_helper

    scale = 1.0
    node = producers.get(name)
    while node is not None and node.op_type in _PASS_THROUGH:
        if node.op_type in ("Mul", "Div"):
            constants = [model.get_constant_value(i) for i in node.input]
            factor = next((value for value in constants if value is not None), None)
            if factor is None or np.size(factor) != 1:
                raise FusionError(f"{node.name} scales by a tensor")
            scale = scale * float(factor) if node.op_type == "Mul" else scale / float(factor)
            name = next(i for i, value in zip(node.input, constants, strict=True) if value is None)
        else:
            name = node.input[0]
        node = producers.get(name)
    if node is None or node.op_type != "Add":
        raise FusionError(f"no biased projection above {name}")
    matmul = next((producers.get(i) for i in node.input if _op(producers.get(i)) == "MatMul"), None)
    bias = next((model.get_initializer(i) for i in node.input if model.get_initializer(i) is not None), None)
    weight = model.get_initializer(matmul.input[1]) if matmul is not None else None
    if weight is None or bias is None:
        raise FusionError(f"{node.name} is not a projection with constant weights")
    return matmul.input[0], numpy_helper.to_array(weight), numpy_helper.to_array(bias), scale


def _merged_heads(context: Any, consumers: dict[str, list[Any]]) -> str:
    """Return the name of the (batch, sequence, hidden) tensor the heads are merged into."""
    transpose = consumers.get(context.output[0], [])
    if len(transpose) != 1 or transpose[0].op_type != "Transpose":
        raise FusionError(f"{context.name} is not followed by a head merge")
    reshape = consumers.get(transpose[0].output[0], [])
    if len(reshape) != 1 or reshape[0].op_type != "Reshape":
        raise FusionError(f"{context.name} is not followed by a head merge")
    return reshape[0].output[0]


def _unused_producers(model: Any, attention: Any) -> list[Any]:
    """Return the nodes that produced ``attention``'s output before (now shadowed by it)."""
    return [node for node in model.model.graph.node if node is not attention and attention.output[0] in node.output]
