namespace Cnn.Training.Data;

/// <summary>A view of chosen samples of another dataset (torch.utils.data.Subset); names and labels are the parent's.</summary>
internal sealed class SubsetDataset : IImageDataset
{
    private readonly IImageDataset _parent;
    private readonly int[] _indices;

    public SubsetDataset(IImageDataset parent, int[] indices)
    {
        _parent = parent;
        _indices = indices;
    }

    public int Count => _indices.Length;
    public IReadOnlyList<string> Classes => _parent.Classes;
    public int LabelOf(int index) => _parent.LabelOf(_indices[index]);
    public ImageData Load(int index) => _parent.Load(_indices[index]);
    public string Describe(int index) => _parent.Describe(_indices[index]);

    /// <summary>The parent's: a split's two parts are transformed alike.</summary>
    public SampleGeometry Geometry => _parent.Geometry;
}
