"""The 3D figure: geometry built from the photo (a head shaped by the face landmarks and wearing the photo's face,
sculpted hair, a toy body in the clothes' colours, a base), rendered on the CPU. The same figure gives the still, the
turntable loop and the printable mesh.

    model = build(look, options_for(look.theme, look.params))
    still(model, (1024, 1024))            # RGBA, the contact shadow in the alpha
    turntable(model, "mp4")                # H.264 bytes (or "gif")
    mesh_file(model, "glb", height_mm=100) # one watertight solid (or "3mf", "stl")
"""

from minime.core.engines.classic.figure3d.build import FigureModel, NoFigureError, build
from minime.core.engines.classic.figure3d.export import mesh_file
from minime.core.engines.classic.figure3d.options import FIGURE_RECIPES, FigureOptions, options_for
from minime.core.engines.classic.figure3d.render import still
from minime.core.engines.classic.figure3d.turntable import turntable

__all__ = ["FIGURE_RECIPES", "FigureModel", "FigureOptions", "NoFigureError", "build", "mesh_file", "options_for",
           "still", "turntable"]
