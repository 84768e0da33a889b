using Cnn.Zoo;
using Cnn.Transfer;
using static Cnn.Tests.Transfer.TransferFixtures;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

[TestClass]
public sealed class KeyMappingTests
{
    [TestMethod]
    [DataRow("module.features.0.weight", "features.0.weight")]
    [DataRow("model.fc.bias", "fc.bias")]
    [DataRow("module.model.layer1.0.conv1.weight", "layer1.0.conv1.weight")]
    [DataRow("features.0.weight", "features.0.weight")]
    [DataRow("layer1.module.weight", "layer1.module.weight")]
    public void Default_StripsWrapperPrefixesOnlyAtTheStart(string key, string expected)
        => Assert.AreEqual(expected, KeyMapping.Default.Map(key));

    [TestMethod]
    public void UserRules_RunInOrderAfterTheDefaults()
    {
        var mapping = KeyMapping.Default.WithRule(@"^backbone\.", "").WithRule(@"^head\.(weight|bias)$", "classifier.4.$1");
        Assert.AreEqual("layer1.0.conv1.weight", mapping.Map("module.backbone.layer1.0.conv1.weight"));
        Assert.AreEqual("classifier.4.bias", mapping.Map("head.bias"));
        Assert.AreEqual("head.extra", mapping.Map("head.extra"));
        Assert.AreEqual("module.x", KeyMapping.None.Map("module.x"));
    }

    [TestMethod]
    public void Apply_KeyCollision_NamesBothKeys()
    {
        using var a = zeros(1);
        using var b = zeros(1);
        var state = new Dictionary<string, Tensor> { ["module.fc.weight"] = a, ["fc.weight"] = b };
        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => KeyMapping.Default.Apply(state));
        StringAssert.Contains(e.Message, "'module.fc.weight'");
        StringAssert.Contains(e.Message, "'fc.weight'");
    }

    [TestMethod]
    public void Apply_KeyMappedToEmpty_IsAnError()
    {
        using var a = zeros(1);
        var e = Assert.ThrowsExactly<InvalidChoiceException>(
            () => KeyMapping.None.WithRule(".*", "").Apply(new Dictionary<string, Tensor> { ["fc.weight"] = a }));
        StringAssert.Contains(e.Message, "empty key");
    }

    [TestMethod]
    public void InvalidPattern_IsRejectedWhenTheRuleIsMade()
    {
        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => KeyMapping.Default.WithRule("(unclosed", ""));
        StringAssert.Contains(e.Message, "(unclosed");
    }

    [TestMethod]
    public void WithContainerAndWithPrefixStripped_ReadACheckpointLayoutTheMappingDidNotKnow()
    {
        // tiny_model_container.pt is {"model": {"model.0.weight": ..., "model.0.bias": ...}, "epoch": 7}. A mapping
        // that knows no container finds no tensors, and the error names the way out.
        using var model = nn.Sequential(nn.Linear(3, 4));
        var e = Assert.ThrowsExactly<InvalidDataException>(
            () => Weights.Load(model, PathOf("tiny_model_container.pt"), mapping: KeyMapping.None));
        StringAssert.Contains(e.Message, "'model'");
        StringAssert.Contains(e.Message, "WithContainer");

        var mapping = KeyMapping.None.WithContainer("model").WithPrefixStripped("model.");
        var report = Weights.Load(model, PathOf("tiny_model_container.pt"), mapping: mapping);
        Assert.IsTrue(report.IsExact, report.ToString());
        CollectionAssert.AreEquivalent(new[] { "0.weight", "0.bias" }, report.Loaded.ToList());
        using var bias = tensor(new float[] { 1, 2, 3, 4 });
        Assert.IsTrue(BitEqual(model.state_dict()["0.bias"], bias));
    }

    [TestMethod]
    public void WithPrefixStripped_TakesThePrefixLiterallyAndOnlyAtTheStart()
    {
        var mapping = KeyMapping.None.WithPrefixStripped("net.");
        Assert.AreEqual("fc.weight", mapping.Map("net.fc.weight"));
        Assert.AreEqual("netXfc.weight", mapping.Map("netXfc.weight"), "the '.' is not a regex wildcard");
        Assert.AreEqual("head.net.fc", mapping.Map("head.net.fc"));
    }
}
