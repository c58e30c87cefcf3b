from ...registry import register

_FACTORY = "dsegym.envs.accelerator.problems:make_accel_problem"
_TAGS = ("accelerator",)

register("accel-resnet18", _FACTORY, kwargs={"workload": "resnet18"}, tags=_TAGS,
         description="systolic DNN accelerator on ResNet-18 (224x224, batch 1)")
register("accel-resnet50", _FACTORY, kwargs={"workload": "resnet50"}, tags=_TAGS,
         description="systolic DNN accelerator on ResNet-50 v1.5 (224x224, batch 1)")
register("accel-mobilenetv2", _FACTORY, kwargs={"workload": "mobilenetv2"}, tags=_TAGS,
         description="systolic DNN accelerator on MobileNetV2 (depthwise convs as in SCALE-Sim)")
register("accel-vgg16", _FACTORY, kwargs={"workload": "vgg16"}, tags=_TAGS,
         description="systolic DNN accelerator on VGG-16 (224x224, batch 1)")
register("accel-vit-b16", _FACTORY, kwargs={"workload": "vit_b16"}, tags=_TAGS,
         description="systolic DNN accelerator on ViT-B/16 (197 tokens)")
register("accel-bert-base", _FACTORY, kwargs={"workload": "bert_base"}, tags=_TAGS,
         description="systolic DNN accelerator on BERT-base (sequence 128)")
register("accel-gpt2-prefill", _FACTORY, kwargs={"workload": "gpt2_prefill"}, tags=_TAGS,
         description="systolic DNN accelerator on GPT-2 124M prefill (512 tokens)")
register("accel-gpt2-decode", _FACTORY, kwargs={"workload": "gpt2_decode"}, tags=_TAGS,
         description="systolic DNN accelerator on one GPT-2 124M decode step (M=1)")
register("accel-llama7b-prefill", _FACTORY, kwargs={"workload": "llama7b_prefill"}, tags=_TAGS,
         description="systolic DNN accelerator on LLaMA-7B prefill (512 tokens)")
register("accel-llama7b-decode", _FACTORY, kwargs={"workload": "llama7b_decode"}, tags=_TAGS,
         description="systolic DNN accelerator on one LLaMA-7B decode step (M=1)")
register("accel-multi", _FACTORY, kwargs={"workload": ["resnet18", "bert_base", "gpt2_decode"]},
         tags=_TAGS,
         description="systolic DNN accelerator on ResNet-18 + BERT-base + GPT-2 decode, metrics summed")
