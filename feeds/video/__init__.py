"""Video: the camera registry, capture, clips, motion and red flags, MJPEG."""
