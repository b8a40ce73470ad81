// The camera scanner: the rear camera in a <video>, a few detections a second, and the first
// EAN-13 read handed to `onCode`. The camera is released as soon as a code is read, when
// stop() is called, or when `signal` aborts (the patron left the screen).
import { createDetector } from './detector.js';

const INTERVAL_MS = 200;

export function cameraAvailable() {
  return Boolean(navigator.mediaDevices?.getUserMedia);
}

/**
 * Starts the camera in `video` and scans. Resolves with a stop() function once the camera is
 * running; rejects when the camera cannot be opened (the caller shows the manual entry).
 */
export async function startScanner(video, { onCode, onFailure, signal }) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } },
    audio: false,
  });
  let stopped = false;
  let timer = null;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  signal?.addEventListener('abort', stop, { once: true });

  video.srcObject = stream;
  await video.play().catch(() => {});
  let detector;
  try {
    detector = await createDetector();
  } catch (error) {
    stop();
    throw error;
  }

  const tick = async () => {
    if (stopped) return;
    try {
      if (video.readyState >= 2) {
        const codes = await detector.detect(video);
        const ean = codes.find((code) => /^\d{13}$/.test(code.rawValue));
        if (ean && !stopped) {
          stop();
          onCode(ean.rawValue);
          return;
        }
      }
    } catch (error) {
      stop();
      onFailure?.(error);
      return;
    }
    timer = setTimeout(tick, INTERVAL_MS);
  };
  tick();
  return stop;
}
