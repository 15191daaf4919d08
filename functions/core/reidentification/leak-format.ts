/** Shapes of a leaked file the tracer reads (R-DEID-6); kept apart so route tables stay light. */
export const LEAK_FORMATS = ['fhir-json', 'fhir-ndjson', 'csv', 'dicom'] as const;
export type LeakFormat = (typeof LEAK_FORMATS)[number];
