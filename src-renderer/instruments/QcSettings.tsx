/** Which results of the instrument are quality control or calibration, and where they go. */
import { useId } from 'react';
import type { ResultSettingsErrors, ResultSettingsValues } from './result-settings';

type QcValues = Pick<ResultSettingsValues, 'qcSampleIds' | 'qcMessageMarks' | 'qcForwardTo'>;

interface Props {
  values: QcValues;
  errors: Pick<ResultSettingsErrors, 'qcSampleIds' | 'qcForwardTo'>;
  onChange(change: Partial<QcValues>): void;
}

export function QcSettings({ values, errors, onChange }: Props) {
  const ids = useId();
  return (
    <div className="form-grid qc-settings">
      <div className={errors.qcSampleIds ? 'field field-invalid' : 'field'}>
        <label htmlFor={`${ids}-samples`}>QC sample IDs</label>
        <textarea
          id={`${ids}-samples`}
          rows={3}
          value={values.qcSampleIds}
          spellCheck={false}
          aria-invalid={Boolean(errors.qcSampleIds)}
          aria-describedby={`${ids}-samples-hint`}
          onChange={(event) => onChange({ qcSampleIds: event.target.value })}
        />
        {errors.qcSampleIds && <p className="field-error">{errors.qcSampleIds}</p>}
        <p id={`${ids}-samples-hint`} className="field-hint">
          One per line; * stands for any characters and ? for one (QC*, CAL-??). Case is ignored.
        </p>
      </div>
      <div className={errors.qcForwardTo ? 'field field-invalid' : 'field'}>
        <label htmlFor={`${ids}-forward`}>Send QC results to</label>
        <input
          id={`${ids}-forward`}
          value={values.qcForwardTo}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={Boolean(errors.qcForwardTo)}
          aria-describedby={`${ids}-forward-hint`}
          onChange={(event) => onChange({ qcForwardTo: event.target.value })}
        />
        {errors.qcForwardTo && <p className="field-error">{errors.qcForwardTo}</p>}
        <p id={`${ids}-forward-hint`} className="field-hint">
          Destination IDs, separated by commas. Empty: QC results stay in the gateway; they never go
          with patient results.
        </p>
      </div>
      <div className="field field-check">
        <input
          type="checkbox"
          id={`${ids}-marks`}
          checked={values.qcMessageMarks}
          aria-describedby={`${ids}-marks-hint`}
          onChange={(event) => onChange({ qcMessageMarks: event.target.checked })}
        />
        <label htmlFor={`${ids}-marks`}>Trust the QC marks messages carry</label>
        <p id={`${ids}-marks-hint`} className="field-hint">
          ASTM: order action code Q (O-12) or header processing ID Q (H-12). HL7: specimen role Q or
          C (SPM-11).
        </p>
      </div>
    </div>
  );
}
