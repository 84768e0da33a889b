using System.Runtime.InteropServices;
using Cnn.Zoo.Runtime;

namespace Cnn.Tests.Runtime;

/// <summary>What <see cref="NativeEnvironment"/> sets is what native code reads (libc's getenv), not only .NET's copy.</summary>
[TestClass]
public sealed class NativeEnvironmentTests
{
    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr GetEnv(string name);

    static string? Native(string name) => Marshal.PtrToStringAnsi(GetEnv(name));

    [TestMethod]
    public void OpenMpThreadsWaitPassivelyUnlessTheUserChose()
    {
        Machine.Require(OperatingSystem.IsLinux(), "reads libc's environment (Linux)");
        string? users = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        string? set = NativeEnvironment.EnsurePassiveOpenMpWaits();
        if (!string.IsNullOrEmpty(users))
        {
            Assert.IsNull(set, "a policy the user set is kept");
            Assert.AreEqual(users, Native("OMP_WAIT_POLICY"));
        }
        else
        {
            Assert.AreEqual("PASSIVE", set);
            Assert.AreEqual("PASSIVE", Native("OMP_WAIT_POLICY"));
        }
    }

    [TestMethod]
    public void ASetVariableReachesNativeCodeAndLeavesDotNetsCopyAlone()
    {
        Machine.Require(OperatingSystem.IsLinux(), "reads libc's environment (Linux)");
        string name = "CNNZOO_TEST_" + Guid.NewGuid().ToString("N");
        Assert.IsTrue(NativeEnvironment.Set(name, "on"));
        Assert.AreEqual("on", Native(name));
        Assert.IsNull(Environment.GetEnvironmentVariable(name), ".NET's copy still says what the user set");
    }
}
