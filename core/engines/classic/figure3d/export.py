"""The printable figure: every part unioned (manifold3d) into one watertight solid standing on its base, scaled to a
height in millimetres, with its colours (the face's from the photo) as vertex colours.

Axes: glTF (.glb) is Y-up, as the figure is built; 3MF and STL are Z-up (printers' convention), so those are turned.
trimesh writes GLB and STL; its 3MF writer (trimesh 5.2) drops colours, so 3MF is written here, with the 3MF
Materials extension's per-vertex ``colorgroup`` (a small, documented XML format)."""

from __future__ import annotations

import io
import threading
import zipfile

import manifold3d
import numpy as np
import trimesh

from minime.core.engines.classic.figure3d.body import vee_colors
from minime.core.engines.classic.figure3d.head import remap_points

FORMATS = ("glb", "3mf", "stl")


def _part_colors(model, part) -> np.ndarray:
    """A part's vertex colours (sRGB 0..1), the photo's where it wears the photo."""
    color = vee_colors(part).astype(np.float32)
    if part.uv is None or part.tex is None:
        return color
    photo = remap_points(model.texture.astype(np.float32) / 255, part.uv[:, 0], part.uv[:, 1])
    return color * (1 - part.tex[:, None]) + photo * part.tex[:, None]


def _shells(faces: np.ndarray) -> list[np.ndarray]:
    """A part's faces grouped by the closed shell they belong to (shells share no vertex)."""
    labels = trimesh.graph.connected_component_labels(trimesh.graph.face_adjacency(faces), node_count=len(faces))
    return [faces[labels == k] for k in range(labels.max() + 1)] if len(faces) else []


def solid(model) -> trimesh.Trimesh:
    """The figure as one watertight solid (Y up, base at y = 0), vertex colours in sRGB; built once per figure."""
    # One lock per figure (dict.setdefault is atomic): two renders of one figure build its solid once, renders of
    # different figures do not wait for each other.
    with model.cache.setdefault("solid_lock", threading.Lock()):
        cached = model.cache.get("solid")
        if cached is not None:
            return cached
        pieces = []
        # Each closed shell nudged by a hundredth of a millimetre (at 100 mm): shells that touch exactly (a pole on
        # a surface, a finger's two joints with one sphere at the knuckle) would meet in coincident surfaces, whose
        # union leaves vertices a hair apart, which STL, having no topology, cannot keep apart.
        # A part may be several overlapping shells (a hand: palm, finger joints): manifold3d takes one mesh as one
        # solid without resolving where its own shells overlap, so each shell goes in on its own and the union joins
        # them (else a finger stays a loose body inside the print).
        rng = np.random.default_rng(0)
        for part in model.parts:
            props = np.hstack([part.vertices, _part_colors(model, part)]).astype(np.float32)
            for faces in _shells(part.faces):
                used, local = np.unique(faces, return_inverse=True)
                shell = props[used]
                shell[:, :3] += rng.normal(0, 1e-3, 3).astype(np.float32)
                pieces.append(manifold3d.Manifold(manifold3d.Mesh(vert_properties=np.ascontiguousarray(shell),
                                                                  tri_verts=local.reshape(-1, 3).astype(np.uint32))))
        union = manifold3d.Manifold.batch_boolean(pieces, manifold3d.OpType.Add)
        out = union.to_mesh()
        props = np.asarray(out.vert_properties)
        # manifold splits a vertex where the colour changes; merge those back (one colour each) so the surface is
        # closed edge to edge.
        target = np.arange(len(props))
        target[np.asarray(out.merge_from_vert, np.int64)] = np.asarray(out.merge_to_vert, np.int64)
        faces = target[np.asarray(out.tri_verts, np.int64)]
        used, faces = np.unique(faces, return_inverse=True)
        props = props[used]
        colors = (np.clip(props[:, 3:6], 0, 1) * 255).round().astype(np.uint8)
        mesh = trimesh.Trimesh(props[:, :3], faces.reshape(-1, 3), process=False,
                               vertex_colors=np.hstack([colors, np.full((len(colors), 1), 255, np.uint8)]))
        model.cache["solid"] = mesh
        return mesh


def mesh_file(model, fmt: str = "glb", *, height_mm: float = 100.0) -> bytes:
    """The figure as a printable file: ``glb`` (Y up, vertex colours), ``3mf`` (Z up, colours) or ``stl`` (Z up),
    standing at 0 and ``height_mm`` tall."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown mesh format {fmt!r}; one of {', '.join(FORMATS)}")
    base = solid(model)
    verts = np.asarray(base.vertices, np.float64).copy()
    verts[:, 1] -= verts[:, 1].min()
    verts *= height_mm / verts[:, 1].max()
    colors = np.asarray(base.visual.vertex_colors)
    if fmt == "glb":
        mesh = trimesh.Trimesh(verts, base.faces, vertex_colors=colors, process=False)
        return mesh.export(file_type="glb")
    z_up = np.stack([verts[:, 0], -verts[:, 2], verts[:, 1]], 1)
    if fmt == "stl":
        return trimesh.Trimesh(z_up, base.faces, process=False).export(file_type="stl")
    return _three_mf(z_up, np.asarray(base.faces), colors[:, :3])


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
    'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>')


def _three_mf(verts: np.ndarray, faces: np.ndarray, colors: np.ndarray) -> bytes:
    """A 3MF package: one object, its vertex colours as a colorgroup (colours rounded to 5 bits a channel)."""
    quant = (colors.astype(np.int32) >> 3 << 3) + 4
    palette, index = np.unique(quant, axis=0, return_inverse=True)
    index = index.ravel()
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<model unit="millimeter" xml:lang="en-US" '
              'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02" '
              'xmlns:m="http://schemas.microsoft.com/3dmanufacturing/material/2015/02">'
              '<metadata name="Application">minime</metadata><resources><m:colorgroup id="1">')
    out.write("".join(f'<m:color color="#{r:02X}{g:02X}{b:02X}"/>' for r, g, b in palette))
    out.write('</m:colorgroup><object id="2" type="model" pid="1" pindex="0"><mesh><vertices>')
    out.write("".join(f'<vertex x="{x:.9g}" y="{y:.9g}" z="{z:.9g}"/>' for x, y, z in verts))
    out.write("</vertices><triangles>")
    out.write("".join(f'<triangle v1="{a}" v2="{b}" v3="{c}" pid="1" p1="{index[a]}" p2="{index[b]}" p3="{index[c]}"/>'
                      for a, b, c in faces))
    out.write('</triangles></mesh></object></resources><build><item objectid="2"/></build></model>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("3D/3dmodel.model", out.getvalue())
    return buf.getvalue()
