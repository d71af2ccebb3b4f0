/** The instrument editor's "Results" section: profile, test-code mapping and QC rules. */
import type { Protocol } from '../../src-shared/results';
import { ProfilePicker } from './ProfilePicker';
import { QcSettings } from './QcSettings';
import { TestCodeTable } from './TestCodeTable';
import type { ResultSettingsErrors, ResultSettingsValues } from './result-settings';
import './result-settings.css';

interface Props {
  values: ResultSettingsValues;
  errors: ResultSettingsErrors;
  protocol: Protocol;
  /** Null while the instrument is new. */
  editingId: string | null;
  /** The ID typed so far, to name exported files. */
  instrumentId: string;
  onChange(change: Partial<ResultSettingsValues>): void;
}

export function ResultSettingsSection(props: Props) {
  const { values, errors, onChange } = props;
  return (
    <details className="advanced result-settings" open>
      <summary>Results: profile, test codes and QC</summary>
      <fieldset>
        <legend>Instrument profile</legend>
        <ProfilePicker
          value={values.profile}
          protocol={props.protocol}
          instrumentId={props.editingId}
          error={errors.profile}
          onChange={(profile) => onChange({ profile })}
        />
      </fieldset>
      <fieldset>
        <legend>Test codes</legend>
        <TestCodeTable
          rows={values.testCodes}
          errors={errors.rows}
          instrumentId={props.instrumentId}
          onChange={(testCodes) => onChange({ testCodes })}
        />
      </fieldset>
      <fieldset>
        <legend>Quality control and calibration</legend>
        <QcSettings values={values} errors={errors} onChange={onChange} />
      </fieldset>
    </details>
  );
}
