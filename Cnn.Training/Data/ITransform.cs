namespace Cnn.Training.Data;

/// <summary>
/// One preprocessing or augmentation step. Randomness comes only from the <c>rng</c> argument, which the loader seeds
/// per sample from (seed, epoch, index), so augmentation repeats exactly whatever the thread timing. Implementations
/// never modify their input and keep no mutable state: one instance serves every loader worker at once.
/// </summary>
public interface ITransform
{
    ImageData Apply(ImageData image, Random rng);
}
