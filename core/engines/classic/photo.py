"""Photo looks: the tilt-shift miniature and Warhol-style pop art."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from minime.core.engines.classic import diorama, figure, figure3d
from minime.core.engines.classic.diorama import tilt_shift
from minime.core.engines.classic.faceart import face_art, smoothed
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import curves, hex_color, saturate, vignette
from minime.core.memo import budget_cache


def miniature(look: Look) -> Image.Image:
    """A tilt-shift diorama. With a person: their little figure (everyone's, in a group photo) standing in a model
    park, town square, boardwalk or snowy village, shot with a tilt-shift lens. Without one (a landscape, a street, a
    face too small to become a figure): the photo itself with the tilt-shift treatment, sharp across the people, and
    a note saying why there is no figure."""
    toy = figure.model(look)
    if toy is not None:
        return _diorama(look, toy)
    if look.person_found and look.low_resolution and figure3d.NoFigureError.SMALL not in look.notes:
        look.notes.append(figure3d.NoFigureError.SMALL)  # (figure.py leaves it to the engine's softer note)
    return tilt_shift_photo(look)


def tilt_shift_photo(look: Look) -> Image.Image:
    """The classic miniature effect on the photo itself: a sharp band through the people (or a little below the
    middle, where a street or a square usually is), blur growing above and below it, toy-bright colour and
    contrast, a desk lamp's gentle top light and a vignette."""
    src = look.source
    scale = 1024 / max(src.size)
    size = (round(src.width * scale), round(src.height * scale))
    x = cv2.resize(np.asarray(src), size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    x = saturate(curves(x, {"all": [(0, 0.0), (0.25, 0.2), (0.75, 0.85), (1, 1)]}), 1.55)
    h, w = x.shape[:2]
    look.progress(0.5)
    band = _focus_band(look)
    out = tilt_shift(x, *band)
    out = cv2.multiply(out, _lamp(w, h), scale=1 / 200)
    return Image.fromarray(vignette(out, 0.35), "RGB")


MIN_BAND = 0.14  # the sharp band's least height, as a share of the photo's


def _focus_band(look: Look) -> tuple[float, float]:
    """Where the lens is sharp (top and bottom, fractions of the height): across every face, from the hair to just
    under the chin (nobody of a group is blurred away; their bodies, the floor and the ceiling are), or a little
    below the middle where there are no faces."""
    faces = look.faces
    if not faces:
        return 0.46, 0.62
    h = look.source.height
    top = min((y - 0.35 * fh) / h for _, y, _, fh in faces)
    bottom = max((y + 1.25 * fh) / h for _, y, _, fh in faces)
    if bottom - top < MIN_BAND:
        grow = (MIN_BAND - (bottom - top)) / 2
        top, bottom = top - grow, bottom + grow
    return top, bottom


def _diorama(look: Look, toy: figure3d.FigureModel) -> Image.Image:
    """The little figures standing in the edition's diorama (no plinth: little people on the table), shot from the
    camera's angle and lit by the scene's sun, their cast shadows falling with the props'; then the tilt-shift lens
    sharp across them, toy-bright colour and a warm vignette."""
    seed = look.params.seed
    people = max(1, toy.people)
    stage = diorama.stage(seed, people)
    look.progress(0.4)
    yaw = (-8.0, 0.0, 8.0)[(seed // 3) % 3]
    # figure3d's light sets 0 and 2 key from the left, 1 from the right; it turns them by the figure's variation
    light = (-toy.options.variation % 3) if stage.sun_left else ((1 - toy.options.variation) % 3)
    room = min(diorama.SIZE, int(stage.unit * (0.45 * people + 0.5)))  # the group's width (a wider shot costs more)
    shown = figure.shot(figure.without_base(toy), room, int(stage.unit / 0.88), yaw=yaw,
                        elevation=stage.pitch, light=light, floor_shadow=0.4)
    look.progress(0.65)
    feet = figure.feet(shown)
    left, right = figure.width_of(shown)
    fx, fy = stage.feet[0] - (left + right) // 2, stage.feet[1] - feet
    solid = np.asarray(shown.getchannel("A")).astype(np.float32) / 255
    solid[solid < 0.9] = 0  # the figures themselves, not the soft shadow figure3d drew round their feet
    rows = np.nonzero(solid.any(axis=1))[0]
    top = fy + (int(rows[0]) if len(rows) else 0)
    canvas = Image.fromarray(diorama.cast_shadow(stage, solid, (fx, fy), max(1.0, stage.feet[1] - top))).convert(
        "RGBA")
    canvas.alpha_composite(_tinted(shown, stage.grade), (int(fx), int(fy)))
    canvas.alpha_composite(Image.fromarray(stage.front, "RGBA"))
    arr = np.asarray(canvas.convert("RGB"))
    arr = saturate(curves(arr, {"all": [(0, 0.0), (0.25, 0.19), (0.75, 0.84), (1, 1)]}), 1.4)
    out = diorama.tilt_shift(arr, top / diorama.SIZE - 0.02, stage.feet[1] / diorama.SIZE + 0.03,
                             defocus=diorama.defocus(stage, solid, (fx, fy)))
    return Image.fromarray(vignette(out, 0.38), "RGB")


def _tinted(shot: Image.Image, grade: tuple[float, float, float]) -> Image.Image:
    """The figure in the scene's light (the golden hour's warmth on it too)."""
    if grade == (1.0, 1.0, 1.0):
        return shot
    arr = np.asarray(shot).copy()
    arr[..., :3] = np.clip(arr[..., :3] * np.float32(grade), 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


@budget_cache(maxsize=4)
def _lamp(w: int, h: int) -> np.ndarray:
    column = (np.linspace(1.06, 0.94, h, dtype=np.float32) * 200).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, None], (h, w, 3)))


# ---- pop art ------------------------------------------------------------------------------------------------------

BG, SKIN, SKIN_SHADE, HAIR, HAIR_SHADE, CLOTHES, CLOTHES_SHADE, INK = range(8)


@dataclass(frozen=True)
class _PopShapes:
    """What pop art keeps of a photo: a region label per pixel (background, skin, hair, clothes, each lit or in
    shade, and ink for the features), where the dots go, the outlines, and each region's own lightness."""

    labels: np.ndarray  # uint8, one of the constants above
    dots: np.ndarray  # bool: Ben-Day dots over the shaded skin and clothes
    lines: np.ndarray  # uint8 ink coverage (silhouette and region outlines, facial features)
    bg_dots: np.ndarray  # bool: finer dots on the background
    skin_l: float  # the skin's median lightness (Lab L, 0..255): its inks keep it, so dark skin stays dark
    skin_ab: tuple[float, float]  # the skin's median colour (Lab a, b, 128 = grey): its inks keep its warmth
    shading: np.ndarray  # float32 multiplier: the face's own light and shade kept over its flat inks (1 elsewhere)
    shaded: tuple[int, int, int, int] | None  # rows and columns (y0, y1, x0, x1) where shading is not 1


WIDE_GROUP = 1.2  # a group photo at least this much wider than high gets the two wide panels


def pop_art(look: Look) -> Image.Image:
    """Flat inks per region (skin, hair, clothes, background) with clean outlines and Ben-Day dots; ``grid`` makes
    the 2×2 Warhol sheet, each panel in its own inks."""
    if (look.params.variant or look.theme.default_variant) == "grid":
        sw, sh = look.source.size
        # A wide group: two wide panels, one above the other. A group in a squarish photo fills square panels (in a
        # wide panel it was a square of people, cut straight at the photo's sides, between two bars of background).
        if len(look.faces) > 1 and not look.fits((512, 512)) and sw > WIDE_GROUP * sh:
            shapes = _pop_shapes(look, (1024, 512), dot=8, work=(768, 384))
            sheet = Image.new("RGB", (1024, 1024))
            for i in range(2):
                tile = _pop_paint(shapes, look.theme.palette(look.params.palette + i + look.params.seed % 4))
                sheet.paste(Image.fromarray(tile, "RGB"), (0, i * 512))
            look.progress(0.75)
            return sheet
        shapes = _pop_shapes(look, (512, 512), dot=7)
        sheet = Image.new("RGB", (1024, 1024))
        for i in range(4):
            tile = _pop_paint(shapes, look.theme.palette(look.params.palette + i + look.params.seed % 4))
            sheet.paste(Image.fromarray(tile, "RGB"), ((i % 2) * 512, (i // 2) * 512))
        look.progress(0.75)
        return sheet
    return Image.fromarray(_pop_paint(_pop_shapes(look, (1024, 1024), dot=11), look.palette), "RGB")


def _pop_shapes(look: Look, size: tuple[int, int], dot: int, work: tuple[int, int] = (512, 512)) -> _PopShapes:
    """The panel's shapes at ``size``; regions are found at ``work`` size, then drawn at the panel's size with smooth
    edges."""
    rgb = look.frame(work, band=True)  # a wide group along the bottom, the background ink above it
    sculpt = look.subject.found
    mask = look.frame(work, (look.subject.mask * 255).astype(np.uint8), band=True) if sculpt else \
        np.full(work[::-1], 255, np.uint8)
    faces = _faces_in_frame(look, work)
    drawn = face_art(rgb, faces, line_scale=0.8, person=mask)  # the faces' skin smooth, features drawn (faceart.py)
    smooth = cv2.bilateralFilter(cv2.bilateralFilter(rgb, 7, 50, 7), 7, 40, 7)
    # (the regions come from the photo smoothed by the drawn faces; the faces' relief from the photo's own light)
    own_lum = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    smooth = smoothed(smooth, drawn)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB)
    lum = lab[..., 0].astype(np.float32)
    person = mask > 127
    skin, hair, skin_l, skin_ab, own_skin_l = _skin_and_hair(lab, person, faces, drawn.skin > 0.5,
                                                             cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    # Ink where the photo is dark inside the eyes, brows and lips only (irises, lashes, brows, the mouth's line):
    # no black eye sockets, no blotches on the cheeks.
    features = drawn.features & (own_lum < skin_l - max(28.0, skin_l * 0.28))
    look.progress(0.45)
    labels = np.full(work[::-1], BG, np.uint8)
    labels[person] = CLOTHES
    labels[hair] = HAIR
    labels[skin] = SKIN
    # Two tones per region: lit and in shade, split at the region's own lightness, smoothed into a few large
    # shapes (hair and clothes in big masses of shade, not a camouflage of blotches).
    broad = cv2.GaussianBlur(lum, (0, 0), max(2.0, work[0] / 120))
    for lit, shade in ((SKIN, SKIN_SHADE), (HAIR, HAIR_SHADE), (CLOTHES, CLOTHES_SHADE)):
        region = labels == lit
        if region.sum() > 50:
            cut = np.percentile(broad[region], 35 if lit == SKIN else 30)
            dark = region & (broad < cut - 6)
            if len(faces) > 1 and lit == CLOTHES:  # a group's small people: shade in a few large masses
                dark = _masses(dark, region, float(np.median([f[2] for f in faces])))
            labels[dark] = shade
    labels[features] = INK
    labels = _smooth_labels(labels, size)
    mask_big = cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR)
    # The silhouette's outline drawn along the matte smoothed (a steady line, not one that wobbles with its edge).
    mask_big = ((cv2.GaussianBlur(mask_big, (0, 0), max(1.5, size[0] / 200)) > 127) * 255).astype(np.uint8)
    edges = cv2.Canny(mask_big, 60, 160)
    # Outlines between regions (skin / hair / clothes / background), not between a region's two tones.
    groups = np.array([0, 1, 1, 2, 2, 3, 3, 4], np.uint8)[labels]
    borders = cv2.Canny(groups * 50, 10, 30)
    thick = max(2, size[0] // 180)
    lines = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * thick + 1, 2 * thick + 1)))
    region_lines = cv2.dilate(np.where((labels != BG) & (labels != INK), borders, 0).astype(np.uint8),
                              np.ones((max(1, thick // 2 + 1),) * 2, np.uint8))
    if len(faces) > 1:  # a group: a line between one person's clothes and the next one's (one ink for all of them
        # made the people a single mass)
        clothes = np.isin(labels, (CLOTHES, CLOTHES_SHADE))
        owner = cv2.resize(_people(smooth, person, skin | hair, faces), size, interpolation=cv2.INTER_NEAREST)
        between = np.where(clothes, cv2.Canny(owner * 20, 10, 30), 0).astype(np.uint8)
        region_lines = np.maximum(region_lines, cv2.dilate(between, cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (thick + 1 | 1, thick + 1 | 1))))
    lines = cv2.GaussianBlur(np.maximum(lines, (region_lines * 0.85).astype(np.uint8)), (0, 0), 0.8)
    if drawn.found:  # the drawn features (eyes, brows, nose, lips, glasses): clean lines, not black holes
        features = cv2.resize(drawn.lines, size, interpolation=cv2.INTER_LINEAR) if size != work else drawn.lines
        lines = np.maximum(lines, (np.clip(features * 0.6, 0, 1) * 255).astype(np.uint8))
    dots_big, dots_small = _dot_screens(size, dot)
    dots = dots_big & np.isin(labels, (SKIN_SHADE, CLOTHES_SHADE))
    # Faces keep their features: inside each face the photo's own shading modulates the flat skin ink.
    face_w = np.zeros(work[::-1], np.float32)
    for fx, fy, fw, fh in faces:
        cv2.ellipse(face_w, (int(fx + fw / 2), int(fy + fh * 0.5)), (int(fw * 0.5), int(fh * 0.62)), 0, 0, 360, 1.0,
                    -1)
    face_w = cv2.GaussianBlur(face_w, (0, 0), 3)
    relief = np.clip(own_lum / max(skin_l, 1.0), 0.55, 1.35) ** (0.8 if len(faces) < 2 else 0.5)  # (small faces:
    # softer relief, no dark blotches)
    shading = 1 + (relief - 1) * face_w
    if len(faces) > 1:  # each face's skin ink at its own lightness (the sheet's ink is at the group's median)
        tone = cv2.GaussianBlur(np.where(own_skin_l > 0, own_skin_l / max(skin_l, 1.0), 1.0).astype(np.float32),
                                (0, 0), 2)
        shading = shading * np.clip(tone, 0.55, 1.5) ** 0.9
    shading = cv2.resize(shading.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(np.abs(shading - 1) > 1e-3)
    shaded = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1) if len(ys) else None
    return _PopShapes(labels, dots, lines, dots_small, skin_l, skin_ab, shading, shaded)


def _people(rgb: np.ndarray, person: np.ndarray, heads: np.ndarray, faces: list) -> np.ndarray:
    """Which person each pixel of the matte belongs to (1 + the face's index, 0 off the people): a watershed over
    the photo's colours from each face and the middle of its chest, so the line between two people follows the
    edge between their clothes; smoothed into whole shapes."""
    h, w = person.shape
    markers = np.zeros((h, w), np.int32)
    markers[~cv2.dilate(person.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)] = len(faces) + 1
    for i, (fx, fy, fw, fh) in enumerate(faces):
        seed = np.zeros((h, w), np.uint8)
        cv2.ellipse(seed, (int(fx + fw / 2), int(fy + fh * 0.55)), (max(1, int(fw * 0.3)), max(1, int(fh * 0.35))),
                    0, 0, 360, 1, -1)
        cv2.rectangle(seed, (int(fx + fw * 0.3), int(fy + fh * 1.25)), (int(fx + fw * 0.7), int(fy + fh * 1.9)), 1,
                      -1)
        markers[(seed > 0) & person] = i + 1
    face_w = float(np.median([f[2] for f in faces]))
    # (Over the colours blurred a little: a striped shirt's stripes are no border between two people.)
    cv2.watershed(cv2.cvtColor(cv2.GaussianBlur(rgb, (0, 0), max(1.0, 0.12 * face_w)), cv2.COLOR_RGB2BGR), markers)
    votes = np.stack([cv2.GaussianBlur((markers == i + 1).astype(np.float32), (0, 0), max(2.5, 0.15 * face_w))
                      for i in range(len(faces))])
    owner = (1 + np.argmax(votes, axis=0)).astype(np.uint8)
    owner[~person | heads] = 0
    return owner


SHADE_MASS = 0.6  # of the group's median face area: smaller patches of shade (or of light inside the shade) go


def _masses(dark: np.ndarray, region: np.ndarray, face_w: float) -> np.ndarray:
    """``dark`` (a part of ``region``) without its specks and small holes: at a group's scale the split of the clothes
    into light and shade follows every fold and print as a camouflage of small blotches."""
    side = max(3, int(face_w * 0.2)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    out = cv2.morphologyEx(cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    least = SHADE_MASS * face_w * face_w
    for value in (1, 0):  # shade patches, then the lit holes in the shade
        count, parts, stats, _ = cv2.connectedComponentsWithStats((out == value).astype(np.uint8), connectivity=8)
        small = 1 + np.nonzero(stats[1:, cv2.CC_STAT_AREA] < least)[0]
        if len(small):
            out[np.isin(parts, small) & (region if value == 0 else True)] = 1 - value
    return (out > 0) & region


def _faces_in_frame(look: Look, size: tuple[int, int]) -> list[tuple[float, float, float, float]]:
    x0, y0, cw, _ = look.frame_window(size, band=True)
    s = size[0] / cw
    return [((x - x0) * s, (y - y0) * s, w * s, h * s) for x, y, w, h in look.faces]


SKIN_REACH = (1.15, 1.7)  # face widths, heights: the ellipse around a face and its neck where skin is found by colour
CLOTHES_ISLAND = 0.3  # of the smallest face's area: a smaller piece of clothes inside the skin is skin
BALD = 1.3  # a scalp as smooth as this many times the cheeks' texture is skin (a bald head), not hair
LOCKS = 2.0  # how much rougher than the cheeks hair is (its strands), where it is the skin's own colour
FAR_SKIN = 1.0  # of the smallest face's area: the least a patch of skin colour away from the faces covers (a group)


def _skin_and_hair(lab: np.ndarray, person: np.ndarray, faces: list, drawn_skin: np.ndarray,
                   gray: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float, tuple[float, float],
                                                            np.ndarray]:
    """Skin: the faces' drawn skin and the person's pixels close in colour to the centre of their faces (loosely
    around each face and its neck, strictly and in large patches only elsewhere: beige clothes, a wooden table or a
    warm wall are no skin); hair: the rest of each head, in a few whole masses. Also the skin's median lightness and
    colour (Lab), and each skin pixel's own face's lightness (float32, 0 off the skin): every face keeps its own
    skin tone in a group."""
    h, w = person.shape
    skin = drawn_skin & person
    hair = np.zeros((h, w), bool)
    ab = lab[..., 1:].astype(np.float32)
    lum = lab[..., 0].astype(np.float32)
    skin_ls, skin_abs = [], []
    far = np.zeros((h, w), bool)
    owner = np.full((h, w), -1, np.int16)  # the face whose skin a pixel is (the nearest one)
    nearest = np.full((h, w), np.inf, np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    smallest = min((fw * fh for _, _, fw, fh in faces), default=1.0)
    texture = None if gray is None or not faces else cv2.GaussianBlur(
        np.abs(cv2.Laplacian(gray, cv2.CV_32F)), (0, 0), max(1.0, float(np.median([f[2] for f in faces])) / 25))
    stranded, crown = np.zeros((h, w), bool), np.zeros((h, w), bool)
    for fx, fy, fw, fh in faces:
        x0, x1 = int(max(0, fx + fw * 0.3)), int(min(w, fx + fw * 0.7))
        y0, y1 = int(max(0, fy + fh * 0.45)), int(min(h, fy + fh * 0.75))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        patch = lab[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)
        bare = drawn_skin[y0:y1, x0:x1].reshape(-1)  # (not a moustache: the skin ink is the skin's own colour)
        if bare.sum() > 0.3 * bare.size:
            patch = patch[bare]
        mean_ab = np.median(patch[:, 1:], axis=0)
        mean_l = float(np.median(patch[:, 0]))
        distance = ((xx - (fx + fw / 2)) / (fw * SKIN_REACH[0])) ** 2 \
            + ((yy - (fy + fh * 0.8)) / (fh * SKIN_REACH[1])) ** 2
        closer = distance < nearest
        nearest[closer] = distance[closer]
        owner[closer] = len(skin_ls)
        skin_ls.append(mean_l)
        skin_abs.append(mean_ab)
        d_ab = np.sqrt(((ab - mean_ab) ** 2).sum(-1))
        near = (d_ab < 14) & (np.abs(lum - mean_l) < 70) & person & (distance < 1)
        loose = len(faces) < 2  # (one person: their hands and arms are the only skin-coloured things on them)
        far |= (d_ab < (14 if loose else 8)) & (np.abs(lum - mean_l) < (70 if loose else 35)) & person \
            & (distance >= 1)
        brow = int(max(0, fy + 0.2 * fh))  # above the brows it is hair, unless smooth skin (a bald head)
        smooth = 0.0
        if texture is not None:
            cheeks = texture[y0:y1, x0:x1][drawn_skin[y0:y1, x0:x1]]
            smooth = float(np.median(cheeks)) if cheeks.size > 10 else float(np.median(texture[y0:y1, x0:x1]))
            near[:brow] &= drawn_skin[:brow] | (texture[:brow] < BALD * max(smooth, 1.0))
        else:
            near[:brow] &= drawn_skin[:brow]
        skin |= near
        head = np.zeros((h, w), np.uint8)
        cv2.ellipse(head, (int(fx + fw / 2), int(fy + fh * 0.3)), (int(fw * 0.8), int(fh * 0.95)), 0, 0, 360, 1,
                    -1)
        head[int(max(0, fy + fh * 0.9)):] = 0  # hair is above the chin; below it are the collar and clothes
        hair |= (head > 0) & person & ~near
        if texture is not None:  # fair hair (blonde, grey: the skin's own colour) told from skin by its strands,
            locks = np.zeros((h, w), np.uint8)  # (on the head and falling past the chin)
            cv2.ellipse(locks, (int(fx + fw / 2), int(fy + fh * 0.3)), (int(fw * 0.8), int(fh * 0.95)), 0, 0, 360, 1,
                        -1)
            cv2.rectangle(locks, (int(fx - 0.55 * fw), int(fy + fh * 0.6)), (int(fx + 1.55 * fw), int(fy + 2.6 * fh)),
                          1, -1)
            cv2.ellipse(locks, (int(fx + fw / 2), int(fy + fh * 0.55)), (int(fw * 0.46), int(fh * 0.56)), 0, 0, 360,
                        0, -1)  # (not the face)
            locks[int(fy + fh * 0.9):, int(fx + fw * 0.15):int(fx + fw * 0.85)] = 0  # (not the neck and chest)
            stranded |= (locks > 0) & person & (texture > LOCKS * max(smooth, 1.0)) & ~drawn_skin
            crown[:int(max(0, fy + 0.6 * fh))] |= locks[:int(max(0, fy + 0.6 * fh))] > 0
        face = np.zeros((h, w), np.uint8)
        cv2.ellipse(face, (int(fx + fw / 2), int(fy + fh * 0.55)), (int(fw * 0.42), int(fh * 0.5)), 0, 0, 360, 1,
                    -1)
        skin |= (face > 0) & person  # inside the face it is skin, whatever the colour says (the features are drawn)
    if stranded.any():  # in whole locks, not specks
        stranded = cv2.morphologyEx(stranded.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        stranded = cv2.morphologyEx(stranded, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        count, locks_found = cv2.connectedComponentsWithStats(stranded, connectivity=8)[:2]
        on_head = np.unique(locks_found[crown & (stranded > 0)])  # hair falls from the head: a patterned shirt
        stranded = np.isin(locks_found, on_head[on_head > 0])  # beside the neck, not reaching it, is no hair
        skin &= ~stranded
        hair |= stranded & person
    if not skin_ls:  # no face: no skin to find; the person is one region
        return skin, hair, 160.0, (140.0, 150.0), np.zeros((h, w), np.float32)
    # Skin away from the faces (hands, arms) only as whole patches, not a camouflage of skin-coloured specks.
    far = cv2.morphologyEx(far.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, parts, stats, _ = cv2.connectedComponentsWithStats(far, connectivity=8)
    if count > 1:
        least = FAR_SKIN * smallest * (0.1 if len(faces) < 2 else 1.0)
        skin |= np.isin(parts, 1 + np.nonzero(stats[1:, cv2.CC_STAT_AREA] >= least)[0])
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    hair &= ~skin
    # Hair in one or a few masses: specks of it (a lock on the forehead, a shadow) go to the skin around them.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hair.astype(np.uint8), connectivity=8)
    if count > 1:
        big = stats[1:, cv2.CC_STAT_AREA].max()
        specks = np.isin(labels, [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] < 0.08 * big])
        hair &= ~specks
        skin |= specks & person
    # Clothes in whole pieces too: islands of them in the skin (a sequin, a shadow on the chest) go to the skin.
    count, pieces, stats, _ = cv2.connectedComponentsWithStats((person & ~skin & ~hair).astype(np.uint8),
                                                               connectivity=8)
    if count > 1:
        skin |= np.isin(pieces, 1 + np.nonzero(stats[1:, cv2.CC_STAT_AREA] < CLOTHES_ISLAND * smallest)[0])
    a, b = np.median(np.array(skin_abs), axis=0)
    own_l = np.where(skin, np.array(skin_ls, np.float32)[np.maximum(owner, 0)], 0).astype(np.float32)
    return skin, hair, float(np.median(skin_ls)), (float(a), float(b)), own_l


def _smooth_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Clean flat shapes: each label's area is blurred and the strongest wins (a mode filter), at ``size``."""
    present = [int(v) for v in np.unique(labels)]
    scores = np.zeros((len(present), size[1], size[0]), np.float32)
    for i, v in enumerate(present):
        sigma = 0.8 if v == INK else 2.6 if v in (SKIN_SHADE, HAIR_SHADE, CLOTHES_SHADE) else 1.8
        blurred = cv2.GaussianBlur((labels == v).astype(np.float32), (0, 0), sigma)
        if v == INK:
            blurred *= 1.4  # thin features survive the vote
        scores[i] = cv2.resize(blurred, size, interpolation=cv2.INTER_LINEAR) if size != labels.shape[::-1] \
            else blurred
    return np.array(present, np.uint8)[np.argmax(scores, axis=0)]


@budget_cache(maxsize=8)
def _dot_screens(size: tuple[int, int], dot: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    u, v = (xx + yy) / np.sqrt(2), (xx - yy) / np.sqrt(2)
    cell = dot * 2.2
    du, dv = (u % cell) - cell / 2, (v % cell) - cell / 2
    r2 = du * du + dv * dv
    return r2 < (dot * 0.5) ** 2, r2 < (dot * 0.32) ** 2


def _skin_ink(color: tuple[int, int, int], skin_l: float, skin_ab: tuple[float, float]) -> np.ndarray:
    """The skin's own colour at its lightness, its hue turned a little towards the palette's skin colour and at
    least as colourful as the skin (Lab, OpenCV's 8-bit scale)."""
    ink = cv2.cvtColor(np.array([[color]], np.uint8), cv2.COLOR_RGB2LAB)[0, 0].astype(np.float32)
    own = np.array(skin_ab, np.float32) - 128
    # (Mostly the skin's own hue: a colourway tints it, never turns brown skin pink.)
    hue = 0.35 * (ink[1:] - 128) / max(1.0, float(np.hypot(*(ink[1:] - 128)))) + own / max(1.0, float(np.hypot(*own)))
    hue /= max(1e-3, float(np.hypot(*hue)))
    chroma = max(float(np.hypot(*(ink[1:] - 128))), float(np.hypot(*own)) * 1.15)
    lab = np.array([np.clip(skin_l, 45, 230), *(128 + hue * chroma)], np.float32)
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8)[None, None], cv2.COLOR_LAB2RGB)[0, 0]


def _lab_ink(color: tuple[int, int, int], lightness: float | None = None, darker: float = 0.0) -> np.ndarray:
    """A palette colour as an ink, optionally at another lightness (Lab L, 0..255) and darkened."""
    lab = cv2.cvtColor(np.array([[color]], np.uint8), cv2.COLOR_RGB2LAB)[0, 0].astype(np.float32)
    if lightness is not None:
        lab[0] = lightness
    lab[0] = np.clip(lab[0] - darker, 0, 255)
    return cv2.cvtColor(lab.astype(np.uint8)[None, None], cv2.COLOR_LAB2RGB)[0, 0]


def _pop_paint(shapes: _PopShapes, palette: dict) -> np.ndarray:
    bg, shadow, mid, light, ink = (hex_color(palette.get(k, d)) for k, d in (
        ("bg", "#ffde00"), ("shadow", "#e5007e"), ("mid", "#ff7a00"), ("light", "#ffd1e8"), ("ink", "#111111")))
    # Skin keeps its own lightness and at least its own colourfulness, its hue halfway to the palette's: dark skin
    # stays a deep tone instead of a pale pastel at the same lightness.
    skin_ink = _skin_ink(light, shapes.skin_l, shapes.skin_ab)
    table = np.array([
        bg,
        skin_ink, _lab_ink(tuple(int(v) for v in skin_ink), None, 38),
        shadow, _lab_ink(shadow, None, 40),
        mid, _lab_ink(mid, None, 45),
        ink,
    ], np.uint8)
    # Each pixel's colour is a lookup of (label, dotted): the dots darken their ink, the background's dots are its own
    # tint; then the face's shading (only where faces are) and the ink lines on top.
    dotted = np.concatenate([table, (table.astype(np.uint16) * 170 // 255).astype(np.uint8)])
    dotted[len(table) + BG] = (np.array(bg, np.uint16) * 215 // 255).astype(np.uint8)
    key = shapes.labels + (shapes.dots | (shapes.bg_dots & (shapes.labels == BG))).astype(np.uint8) * len(table)
    out = dotted[key]
    if shapes.shaded is not None:
        y0, y1, x0, x1 = shapes.shaded
        part = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = cv2.multiply(part, cv2.merge([shapes.shading[y0:y1, x0:x1]] * 3), dtype=cv2.CV_8U)
    lines = cv2.merge([shapes.lines] * 3)
    return cv2.add(cv2.multiply(out, cv2.bitwise_not(lines), scale=1 / 255),
                   cv2.multiply(np.full_like(out, ink), lines, scale=1 / 255))
