from ...registry import register

_FACTORY = "dsegym.envs.accelerator.problems:make_accel_problem"

# problem id -> (workload key(s), what it is)
_PROBLEMS = {
    "accel-resnet18": ("resnet18", "ResNet-18 (224x224, batch 1)"),
    "accel-resnet50": ("resnet50", "ResNet-50 v1.5 (224x224, batch 1)"),
    "accel-mobilenetv2": ("mobilenetv2", "MobileNetV2 (depthwise convs as in SCALE-Sim)"),
    "accel-vgg16": ("vgg16", "VGG-16 (224x224, batch 1)"),
    "accel-vit-b16": ("vit_b16", "ViT-B/16 (197 tokens)"),
    "accel-bert-base": ("bert_base", "BERT-base (sequence 128)"),
    "accel-gpt2-prefill": ("gpt2_prefill", "GPT-2 124M prefill (512 tokens)"),
    "accel-gpt2-decode": ("gpt2_decode", "one GPT-2 124M decode step (M=1)"),
    "accel-llama7b-prefill": ("llama7b_prefill", "LLaMA-7B prefill (512 tokens)"),
    "accel-llama7b-decode": ("llama7b_decode", "one LLaMA-7B decode step (M=1)"),
    "accel-multi": (["resnet18", "bert_base", "gpt2_decode"], "ResNet-18 + BERT-base + GPT-2 decode, metrics summed"),
}

for _id, (_workload, _what) in _PROBLEMS.items():
    register(_id, _FACTORY, kwargs={"workload": _workload}, tags=("accelerator",),
             description=f"systolic DNN accelerator on {_what}")
