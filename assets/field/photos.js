// Photos taken or picked on the phone, made small before they travel: decoded, scaled so
// that the longest side is at most `maxPx`, re-encoded as JPEG (which also drops EXIF).
const QUALITIES = [0.82, 0.7, 0.55, 0.4];

async function decode(file) {
  if (window.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) { /* fall back to an <img> */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function toBlob(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
}

function base64(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",", 2)[1]);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

/** A picked file as {mime, data (base64), bytes, preview (object URL)}; throws if it is not
 *  an image the browser can read. */
export async function prepare(file, maxPx, maxBytes) {
  const img = await decode(file);
  const w = img.width || img.naturalWidth;
  const h = img.height || img.naturalHeight;
  if (!w || !h) throw new Error("not an image");
  const scale = Math.min(1, maxPx / Math.max(w, h));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(h * scale));
  canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
  if (img.close) img.close();
  let blob = null;
  for (const q of QUALITIES) {
    blob = await toBlob(canvas, q);
    if (blob && blob.size * 1.37 < maxBytes / 2) break; // base64 and margin
  }
  if (!blob) throw new Error("could not encode");
  return { mime: "image/jpeg", data: await base64(blob), bytes: blob.size,
           preview: URL.createObjectURL(blob) };
}
