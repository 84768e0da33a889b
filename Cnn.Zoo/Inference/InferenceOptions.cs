using static TorchSharp.torch;

namespace Cnn.Zoo.Inference;

/// <summary>Which optimisations <see cref="InferenceModel.Optimize"/> applies. By default: every one that keeps float32's answers.</summary>
/// <param name="FoldBatchNorm">Fold batch norms into the preceding convolutions (<see cref="BatchNormFolding"/>).</param>
/// <param name="Layout">Convolution weights and each input batch in channels-last layout (<see cref="MemoryFormat"/>);
/// Auto decides from the model's standard input size.</param>
/// <param name="InferenceMode">Run under <c>torch.inference_mode()</c>: no autograd records, no version counters.</param>
/// <param name="Precision">The number format of weights and activations. Float32 by default, on every machine; BFloat16
/// only when asked for, or with Auto when the CPU computes it natively and <paramref name="Calibration"/> proves it
/// for this model (<see cref="PrecisionCalibration"/>).</param>
/// <param name="Cpu">What the CPU can do, for resolving Auto; null means <see cref="CpuCapabilities.Current"/>.</param>
/// <param name="Calibration">Images (N x C x H x W, float32, preprocessed as the model expects) on which Auto checks
/// bf16 against fp32; without them Auto stays float32.</param>
/// <param name="CalibrationTolerance">Largest logit change Auto accepts, as a share of the fp32 logit scale.</param>
public sealed record InferenceOptions(bool FoldBatchNorm = true, MemoryLayout Layout = MemoryLayout.Auto, bool InferenceMode = true,
                                      InferencePrecision Precision = InferencePrecision.Float32, CpuCapabilities? Cpu = null,
                                      Tensor? Calibration = null, double CalibrationTolerance = PrecisionCalibration.DefaultTolerance);
