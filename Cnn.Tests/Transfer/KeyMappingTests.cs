using Cnn.Transfer;
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
        var e = Assert.ThrowsExactly<ArgumentException>(() => KeyMapping.Default.Apply(state));
        StringAssert.Contains(e.Message, "'module.fc.weight'");
        StringAssert.Contains(e.Message, "'fc.weight'");
    }

    [TestMethod]
    public void Apply_KeyMappedToEmpty_IsAnError()
    {
        using var a = zeros(1);
        var e = Assert.ThrowsExactly<ArgumentException>(
            () => KeyMapping.None.WithRule(".*", "").Apply(new Dictionary<string, Tensor> { ["fc.weight"] = a }));
        StringAssert.Contains(e.Message, "empty key");
    }

    [TestMethod]
    public void InvalidPattern_IsRejectedWhenTheRuleIsMade()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => KeyMapping.Default.WithRule("(unclosed", ""));
        StringAssert.Contains(e.Message, "(unclosed");
    }
}
