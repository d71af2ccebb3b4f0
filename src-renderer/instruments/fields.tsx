import type { ReactNode } from 'react';
import type { FieldName } from './form-values';

/** DOM ids of a field's control, hint and error, derived from the form's id and the field. */
export function fieldIds(formId: string, name: FieldName) {
  const base = `${formId}-${name.replace(/\./g, '-')}`;
  return { control: base, hint: `${base}-hint`, error: `${base}-error` };
}

interface FieldProps {
  formId: string;
  name: FieldName;
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: (control: {
    id: string;
    name: string;
    'aria-invalid': boolean;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}

/** A label, the control, a hint and the problem with the value, in that order. */
export function Field({ formId, name, label, hint, error, children }: FieldProps) {
  const ids = fieldIds(formId, name);
  const describedBy = [error ? ids.error : null, hint ? ids.hint : null].filter(Boolean).join(' ');
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={ids.control}>{label}</label>
      {children({
        id: ids.control,
        name,
        'aria-invalid': Boolean(error),
        'aria-describedby': describedBy || undefined,
      })}
      {error && (
        <p id={ids.error} className="field-error">
          {error}
        </p>
      )}
      {hint && (
        <p id={ids.hint} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

interface CheckboxProps {
  formId: string;
  name: FieldName;
  label: string;
  hint?: ReactNode;
  checked: boolean;
  onChange(checked: boolean): void;
}

export function CheckboxField({ formId, name, label, hint, checked, onChange }: CheckboxProps) {
  const ids = fieldIds(formId, name);
  return (
    <div className="field field-check">
      <input
        type="checkbox"
        id={ids.control}
        name={name}
        checked={checked}
        aria-describedby={hint ? ids.hint : undefined}
        onChange={(event) => onChange(event.target.checked)}
      />
      <label htmlFor={ids.control}>{label}</label>
      {hint && (
        <p id={ids.hint} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}
