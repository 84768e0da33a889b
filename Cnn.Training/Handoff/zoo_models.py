"""The Cnn.Zoo models in PyTorch, built by their registry names and options, with the zoo's state-dict keys.

torchvision builds the models it has (the zoo's keys are torchvision's for them); the three it lacks (LeNet-5,
MobileNet V1 and the paper's AlexNet) are defined here with the submodule names of their C# definitions in
Cnn.Zoo/Models, so `model.load_state_dict(torch.load("model.pt"), strict=True)` loads a handed-off file unchanged.
Copied verbatim by `cnnzoo handoff` from Cnn.Training/Handoff/zoo_models.py; runs on torch 1.13 / torchvision 0.14.
"""
import torch
from torch import nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet


class Options:
    """Registry options (`key=value` strings, keys case-insensitive); any option nobody read is an error."""

    def __init__(self, model, values):
        self.model = model
        self.values = {k.lower(): str(v) for k, v in (values or {}).items()}
        self.read = set()

    def get(self, key, default, parse):
        self.read.add(key)
        if key not in self.values:
            return default
        text = self.values[key]
        try:
            return parse(text)
        except ValueError:
            raise ValueError(f"{self.model}: option {key}: cannot read '{text}'") from None

    def text(self, key, default, allowed):
        value = self.get(key, default, lambda t: t.lower())
        if value not in allowed:
            raise ValueError(f"{self.model}: option {key}: expected one of {', '.join(allowed)}; found '{value}'")
        return value

    def flag(self, key, default):
        def parse(text):
            t = text.lower()
            if t in ("true", "1", "yes", "on"):
                return True
            if t in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        return self.get(key, default, parse)

    def ints(self, key, default):
        return self.get(key, default, lambda t: [int(s) for s in t.replace(";", ",").replace("x", ",").split(",")])

    def ensure_all_read(self):
        unread = sorted(set(self.values) - self.read)
        if unread:
            raise ValueError(f"{self.model} does not take option(s) {', '.join(unread)}")


def make_divisible(channels, divisor=8):
    """ChannelRounding.MakeDivisible (torchvision's _make_divisible)."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


def activation(name):
    return {"none": nn.Identity, "relu": lambda: nn.ReLU(inplace=True), "relu6": lambda: nn.ReLU6(inplace=True),
            "tanh": nn.Tanh}[name]()


class LeNet5(nn.Module):
    """Cnn.Zoo/Models/LeNet5.cs: conv 5x5x6, pool, conv 5x5x16, pool, FC 120, FC 84, classes, on 32x32 grey images."""

    def __init__(self, num_classes=10, act="tanh", pooling="average", in_channels=1):
        super().__init__()
        pool = (lambda: nn.MaxPool2d(2, 2)) if pooling == "max" else (lambda: nn.AvgPool2d(2, 2))
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), activation(act), pool(),   # N x 6 x 14 x 14
            nn.Conv2d(6, 16, 5), activation(act), pool())            # N x 16 x 5 x 5
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), activation(act),
            nn.Linear(120, 84), activation(act),
            nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def conv_norm_act(in_channels, out_channels, kernel_size, stride=1, groups=1):
    """Cnn.Zoo/Layers/ConvNormAct.cs: keys 0 (conv, no bias), 1 (batch norm), 2 (ReLU)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class DepthwiseSeparable(nn.Module):
    """Cnn.Zoo/Layers/DepthwiseSeparable.cs: a 3x3 depthwise then a 1x1 pointwise ConvNormAct (`dw`, `pw`)."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.dw = conv_norm_act(in_channels, in_channels, 3, stride, groups=in_channels)
        self.pw = conv_norm_act(in_channels, out_channels, 1)

    def forward(self, x):
        return self.pw(self.dw(x))


class MobileNetV1(nn.Module):
    """Cnn.Zoo/Models/MobileNet.cs (Howard et al. 2017): a 3x3/2 stem and 13 depthwise-separable blocks."""

    SETTINGS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, num_classes=1000, width=1.0, dropout=0.2):
        super().__init__()
        channels = make_divisible(32 * width)
        layers = [conv_norm_act(3, channels, 3, 2)]
        for out, stride in self.SETTINGS:
            out = make_divisible(out * width)
            layers.append(DepthwiseSeparable(channels, out, stride))
            channels = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))   # N x 1024 -> classes


class AlexNetOriginal(nn.Module):
    """Cnn.Zoo/Models/AlexNet.cs, the paper's variant: 227x227 input, 96-256-384-384-256 filters, no padding on conv1."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))   # N x 9216 -> classes


# The registry's ResNet family: block, blocks per stage, groups, width per group (Cnn.Zoo/ModelRegistry.cs).
RESNETS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2], 1, 64),
    "resnet34": (BasicBlock, [3, 4, 6, 3], 1, 64),
    "resnet50": (Bottleneck, [3, 4, 6, 3], 1, 64),
    "resnet101": (Bottleneck, [3, 4, 23, 3], 1, 64),
    "resnet152": (Bottleneck, [3, 8, 36, 3], 1, 64),
    "resnext50_32x4d": (Bottleneck, [3, 4, 6, 3], 32, 4),
    "wide_resnet50_2": (Bottleneck, [3, 4, 6, 3], 1, 128),
}

VGGS = ["vgg11", "vgg13", "vgg16", "vgg19"]


def build(name, options, num_classes):
    """The model `name` with registry `options` ({"layers": "2,2,2,3"}) for `num_classes` classes."""
    o = Options(name, options)
    if name == "lenet5":
        model = LeNet5(num_classes, o.text("activation", "tanh", ["none", "relu", "relu6", "tanh"]),
                       o.text("pooling", "average", ["average", "max"]), o.get("in_channels", 1, int))
    elif name == "mobilenet_v1":
        model = MobileNetV1(num_classes, o.get("width", 1.0, float), o.get("dropout", 0.2, float))
    elif name == "alexnet_original":
        model = AlexNetOriginal(num_classes, o.get("dropout", 0.5, float))
    elif name == "alexnet":
        model = torchvision.models.AlexNet(num_classes, o.get("dropout", 0.5, float))
    elif name in VGGS or name.endswith("_bn") and name[:-3] in VGGS:
        model = getattr(torchvision.models, name)(num_classes=num_classes, dropout=o.get("dropout", 0.5, float))
    elif name in RESNETS:
        block, layers, groups, width = RESNETS[name]
        model = ResNet(block, o.ints("layers", layers), num_classes=num_classes,
                       zero_init_residual=o.flag("zero_init_residual", False),
                       groups=o.get("groups", groups, int), width_per_group=o.get("width_per_group", width, int))
        if o.flag("cifar_stem", False):
            # The zoo's 32x32 stem (Cnn.Zoo/Models/ResNet.cs): a 3x3/1 convolution and no max-pool; keys unchanged.
            model.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
            model.maxpool = nn.Identity()
    elif name == "googlenet":
        model = torchvision.models.GoogLeNet(num_classes, aux_logits=o.flag("aux_logits", False),
                                             transform_input=o.flag("transform_input", False), init_weights=True,
                                             dropout=o.get("dropout", 0.2, float))
    elif name == "mobilenet_v2":
        model = torchvision.models.MobileNetV2(num_classes, width_mult=o.get("width", 1.0, float),
                                               dropout=o.get("dropout", 0.2, float))
    else:
        raise ValueError(f"zoo_models.py has no PyTorch definition of '{name}' (a model registered outside Cnn.Zoo?)")
    o.ensure_all_read()
    return model


if __name__ == "__main__":
    # `python3 zoo_models.py NAME [key=value ...]`: the keys and shapes of the model, one "key<TAB>shape" a line.
    import sys
    built = build(sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:]), 10)
    for key, value in built.state_dict().items():
        print(f"{key}\t{'x'.join(str(d) for d in value.shape)}")
