// Grids, heat maps and composition take and return `RasterImage` and are written out with
// `PNG.write`, so importing AutoregImaging brings the codec module along.
@_exported import AutoregPNG
